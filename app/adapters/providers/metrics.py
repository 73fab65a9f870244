"""Prometheus metrics of provider calls, registered once when this module is imported.

`outcome` is what the caller got back from ResilientProvider:
  succeeded / failed / pending / unknown  the provider's verdict (or a status it gave);
  unavailable    retries exhausted and the request surely never reached the provider;
  unknown        also used when retries ran out and the request may have reached it;
  circuit_open   the breaker refused the call without trying;
  accepted / rejected  a callback verified and parsed, or refused as forged/stale/malformed;
  error          the adapter raised something that is not a transport error (a bug).
Retries themselves are counted by stamina (`stamina_retries_total`).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

PROVIDER_CALLS = Counter(
    "fxp_provider_calls_total",
    "Calls to payment providers, by final outcome.",
    ["provider", "operation", "outcome"],
)

PROVIDER_CALL_DURATION = Histogram(
    "fxp_provider_call_duration_seconds",
    "Wall time of a provider call as the caller sees it, retries and backoff included.",
    ["provider", "operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)

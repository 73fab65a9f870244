"""Transport failures of a provider call. Adapters raise these; the resilience
wrapper (retries, circuit breaker) decides what they become. A provider's own
verdict (a decline, a 4xx validation error) is never an exception: it is a
ProviderResult with Outcome.FAILED."""

from __future__ import annotations


class ProviderTransportError(Exception):
    """The call did not produce a verdict. `may_have_reached_provider` tells whether
    the provider could have acted on it (so the outcome is unknown, not failed)."""

    may_have_reached_provider = True

    def __init__(self, provider: str, message: str) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider


class ProviderTimeout(ProviderTransportError):
    """No answer in time; the request may have been processed."""


class ProviderConnectError(ProviderTransportError):
    """The connection could not be made: the provider never saw the request."""

    may_have_reached_provider = False


class ProviderServerError(ProviderTransportError):
    """5xx, or a body we cannot read: the provider may or may not have acted."""

    def __init__(self, provider: str, message: str, status_code: int | None = None) -> None:
        super().__init__(provider, message)
        self.status_code = status_code


class ProviderRateLimited(ProviderTransportError):
    """429: the provider refused for now; retry after `retry_after` seconds if given."""

    may_have_reached_provider = False

    def __init__(self, provider: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(provider, message)
        self.retry_after = retry_after

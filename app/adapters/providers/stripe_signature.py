"""Verification of Stripe's `Stripe-Signature` webhook header.

The documented scheme (docs.stripe.com/webhooks#verify-manually, and
`stripe.WebhookSignature.verify_header` in stripe-python): the header is
`t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=...]`; each v1 is
HMAC-SHA256(secret, f"{t}.{raw body}") in hex, the secret used as its UTF-8 bytes
(whsec_ prefix included). Several v1 values appear while Stripe rolls a secret;
several secrets are configured while we roll ours. Any pair matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from app.domain.errors import InvalidCallback

SCHEME = "v1"


def parse_signature_header(header: str) -> tuple[int, list[str]]:
    """The timestamp and the v1 signatures; InvalidCallback if the header is unusable."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and timestamp is None:
            try:
                timestamp = int(value)
            except ValueError:
                raise InvalidCallback("Stripe-Signature timestamp is not a number") from None
        elif key == SCHEME and value:
            signatures.append(value)
    if timestamp is None:
        raise InvalidCallback("Stripe-Signature has no timestamp")
    if not signatures:
        raise InvalidCallback("Stripe-Signature has no v1 signature")
    return timestamp, signatures


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def verify_stripe_signature(header: str | None, body: bytes, secrets: Sequence[str],
                            tolerance_s: int, now: float) -> int:
    """Check authenticity first, then freshness (so `stale_callback` is only ever said
    of a genuine but replayed/late delivery). Returns the signed timestamp."""
    if not header:
        raise InvalidCallback("missing Stripe-Signature header")
    if not secrets:
        raise InvalidCallback("no Stripe webhook secret is configured")
    timestamp, signatures = parse_signature_header(header)
    expected = [compute_signature(secret, timestamp, body).encode() for secret in secrets]
    # compare_digest: the time taken must not reveal how many leading characters matched
    if not any(hmac.compare_digest(good, given.encode()) for good in expected for given in signatures):
        raise InvalidCallback("Stripe-Signature does not match the payload")
    if abs(now - timestamp) > tolerance_s:
        raise InvalidCallback(f"Stripe-Signature timestamp is outside the {tolerance_s}s tolerance",
                              code="stale_callback")
    return timestamp

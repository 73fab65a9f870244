"""Callback signatures: HMAC-SHA256 over f"{timestamp}.{raw body}" with the shared secret.

The gateway signs with these functions and FusionXPay's sandbox adapter computes the
expected value with the same ones, so the two sides cannot drift apart. Binding the
timestamp into the MAC lets the receiver reject replays of an old, validly signed body."""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Sandbox-Timestamp"
SIGNATURE_HEADER = "X-Sandbox-Signature"
SIGNATURE_SCHEME = "v1"


def compute_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The header value for this body, e.g. 'v1=9f86d0...'."""
    signed_payload = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed_payload, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers a callback carries; `timestamp` defaults to now (unix seconds)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: compute_signature(secret, ts, body)}

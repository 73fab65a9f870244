"""Where a provider sends the shopper back after a redirect (3-D Secure, PayPal approval).

The URL is handed to providers, which redirect a shopper's browser to it, so it must be
a plain absolute https URL: no other scheme (javascript:, data:, custom ones), no
credentials, no control characters. Plain http is allowed only for loopback hosts and
only when the deployment says so (test and dev: a merchant's shop on localhost).
"""

from __future__ import annotations

import ipaddress

from app.domain.errors import ValidationFailed
from app.domain.model.urls import split_url

LOOPBACK_NAMES = frozenset({"localhost", "localhost."})


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_return_url(value: str, allow_http_loopback: bool) -> str:
    """`value` when it is a URL a shopper may be sent back to; raises ValidationFailed
    (code `invalid_return_url`) otherwise."""
    def refuse(reason: str) -> ValidationFailed:
        return ValidationFailed(f"return_url {reason}", field="return_url", code="invalid_return_url")

    parts = split_url(value, refuse)
    host = parts.hostname or ""
    if parts.scheme == "https":
        return value
    if parts.scheme == "http" and _is_loopback(host):
        if allow_http_loopback:
            return value
        raise refuse("must use https (plain http to a loopback host is allowed only in test and dev)")
    raise refuse("must use https" + (" (or http to a loopback host)" if allow_http_loopback else ""))

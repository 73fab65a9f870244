"""A merchant's webhook URL as we accept it: absolute http(s), a host, no credentials.

Credentials in a URL (`https://user:pass@host/`) would be stored, logged and shown back;
we refuse them on input and redact them wherever an old one is written out. Whether the
host may be called at all (private addresses) is decided at delivery time, when it is
resolved (the webhook target guard)."""

from __future__ import annotations

import re

from app.domain.errors import ValidationFailed
from app.domain.model.urls import split_url

USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)[^/?#@\s]*@")


def redact_url(text: str) -> str:
    """`text` with the user:password of any URL in it replaced."""
    return USERINFO.sub(r"\g<scheme>[REDACTED]@", text)


def checked_webhook_url(url: str) -> str:
    """`url`, if it is usable as a webhook target; ValidationFailed naming the field otherwise."""
    def invalid(why: str) -> ValidationFailed:
        return ValidationFailed(f"webhook_url {why}", field="webhook_url", code="invalid_webhook_url")

    if split_url(url, invalid).scheme not in ("http", "https"):
        raise invalid("must be an absolute http(s) URL")
    return url

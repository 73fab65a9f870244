"""A merchant's webhook URL as we accept it: absolute http(s), a host, no credentials.

Credentials in a URL (`https://user:pass@host/`) would be stored, logged and shown back;
we refuse them on input and redact them wherever an old one is written out. Whether the
host may be called at all (private addresses) is decided at delivery time, when it is
resolved (the webhook target guard)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from app.domain.errors import ValidationFailed

MAX_URL_LENGTH = 2048
USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)[^/?#@\s]*@")


def redact_url(text: str) -> str:
    """`text` with the user:password of any URL in it replaced."""
    return USERINFO.sub(r"\g<scheme>[REDACTED]@", text)


def checked_webhook_url(url: str) -> str:
    """`url`, if it is usable as a webhook target; ValidationFailed naming the field otherwise."""
    def invalid(why: str) -> ValidationFailed:
        return ValidationFailed(f"webhook_url {why}", field="webhook_url", code="invalid_webhook_url")

    if len(url) > MAX_URL_LENGTH or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise invalid(f"must be at most {MAX_URL_LENGTH} characters with no spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise invalid("is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("must be an absolute http(s) URL")
    if "@" in parts.netloc:
        raise invalid("must not carry credentials (user:password@); authenticate with the webhook signature")
    return url

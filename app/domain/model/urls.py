"""What every URL a merchant gives us must be, whatever it is for (webhooks, return
URLs): absolute, with a host, no credentials (`user:password@` would be stored, logged and
passed on), no spaces or control characters, a valid port, bounded length."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048


def split_url(value: str, refuse: Callable[[str], Exception], max_length: int = MAX_URL_LENGTH) -> SplitResult:
    """`value` split into its parts; raises refuse(reason) when it is not such a URL."""
    if len(value) > max_length:
        raise refuse(f"must be at most {max_length} characters")
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in value):
        raise refuse("must not contain spaces or control characters")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise refuse("is not a valid URL") from None
    if "@" in parts.netloc:
        raise refuse("must not carry credentials (user:password@)")
    if not parts.scheme or not parts.hostname:
        raise refuse("must be an absolute URL with a host")
    return parts

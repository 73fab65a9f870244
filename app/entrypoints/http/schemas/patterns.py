"""Schema patterns that mean the same to the server (Python's `re`, via msgspec) and to
clients and tools reading the OpenAPI document (ECMA-262): ASCII classes instead of `\\d`
and `\\s` (Unicode-wide in Python, different sets in ECMA-262), and no trailing-newline
slack (Python's `$` also matches before a final newline; ECMA-262's does not)."""

from __future__ import annotations


def whole(body: str) -> str:
    """A pattern the whole string must match."""
    return f"^(?:{body})$(?!\\n)"


def any_case(*words: str) -> str:
    """One of `words`, in any letter case: ECMA-262 (before ES2025) has no inline (?i:...)."""
    return whole("|".join("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word) for word in words))


NO_NUL = r"^[^\x00]*$"  # every character but NUL, newlines included: same in both
# RFC 3339 date-time as Python reads it (no leap second, upper-case T and Z).
RFC3339 = whole(r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                r"(\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])")
EMAIL_PART = r"[^@\x00-\x20\x7f-\xa0]+"  # no controls, spaces (\x85 and \xa0 included)
EMAIL = whole(rf"{EMAIL_PART}@{EMAIL_PART}\.{EMAIL_PART}")
PHONE = whole(r"\+[1-9][0-9]{1,14}")  # E.164, as SMS providers take it
CARD_NUMBER = whole(r"[0-9 \-]{12,23}")
CVC = whole(r"[0-9]{3,4}")
TOKEN = whole(r"[A-Za-z0-9_\-]+")
PROVIDER = whole(r"[a-z_]{2,32}")
IDEMPOTENCY_KEY = whole(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces

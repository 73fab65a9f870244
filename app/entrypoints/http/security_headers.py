"""Headers every response carries, errors and unknown paths included (so the edge
middleware, outside the router, adds them): the API's answers are never sniffed as another type,
cached by a browser or proxy, framed, or leak a Referer."""

from __future__ import annotations

from litestar.config.cors import CORSConfig

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
]
NO_STORE = (b"cache-control", b"no-store")


def response_headers(hsts_max_age_s: int = 31_536_000) -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]]:
    """The headers every response carries unless it sets them itself (the edge middleware
    adds them): over plain HTTP, and over HTTPS (with HSTS)."""
    # Only over HTTPS: a browser ignores HSTS on plain HTTP, and it must not pin a dev server.
    hsts = (b"strict-transport-security", f"max-age={hsts_max_age_s}; includeSubDomains".encode())
    plain = [*SECURITY_HEADERS, NO_STORE]
    return plain, [*plain, hsts]


def cors_config(origins: str) -> CORSConfig | None:
    """CORS only for the configured origins; none configured (the default): no CORS at all,
    so browsers keep other sites' pages from calling the API with a merchant's key."""
    allowed = [origin.strip() for origin in origins.split(",") if origin.strip()]
    if not allowed:
        return None
    return CORSConfig(allow_origins=allowed, allow_methods=["GET", "POST", "PUT"],
                      allow_headers=["Authorization", "Content-Type", "Idempotency-Key"])

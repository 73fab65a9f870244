"""Headers every response carries, errors and unknown paths included (so this wraps the
whole app, outside the router): the API's answers are never sniffed as another type,
cached by a browser or proxy, framed, or leak a Referer."""

from __future__ import annotations

from litestar.config.cors import CORSConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
]
NO_STORE = (b"cache-control", b"no-store")


def security_headers(app: ASGIApp, hsts_max_age_s: int = 31_536_000) -> ASGIApp:
    # Only over HTTPS: a browser ignores HSTS on plain HTTP, and it must not pin a dev server.
    hsts = (b"strict-transport-security", f"max-age={hsts_max_age_s}; includeSubDomains".encode())

    async def with_headers(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        extra = [*SECURITY_HEADERS, NO_STORE, *([hsts] if scope.get("scheme") == "https" else [])]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [header for header in extra if header[0] not in present]
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_headers)

    return with_headers


def cors_config(origins: str) -> CORSConfig | None:
    """CORS only for the configured origins; none configured (the default): no CORS at all,
    so browsers keep other sites' pages from calling the API with a merchant's key."""
    allowed = [origin.strip() for origin in origins.split(",") if origin.strip()]
    if not allowed:
        return None
    return CORSConfig(allow_origins=allowed, allow_methods=["GET", "POST", "PUT"],
                      allow_headers=["Authorization", "Content-Type", "Idempotency-Key"])

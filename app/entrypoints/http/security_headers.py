"""Headers every response carries, errors and unknown paths included (so this wraps the
whole app, outside the router): the API's answers are never sniffed as another type,
cached by a browser or proxy, framed, or leak a Referer."""

from __future__ import annotations

from litestar.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
]
NO_STORE = (b"cache-control", b"no-store")


def security_headers(app: ASGIApp) -> ASGIApp:
    async def with_headers(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [header for header in [*SECURITY_HEADERS, NO_STORE] if header[0] not in present]
                message["headers"] = headers
            await send(message)

        await app(scope, receive, send_with_headers)

    return with_headers

"""One structured log line per request, and the request/correlation id.

`X-Request-ID` is honoured when it looks sane and echoed on every response; it is bound
as the correlation id so it travels into the outbox and on into the workers."""

from __future__ import annotations

import re
import secrets
import time

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
logger = structlog.get_logger("fusionxpay.http")


def request_log_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else secrets.token_hex(16)  # as uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, correlation_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_request_id)
        finally:
            merchant_id = scope.get("state", {}).get("merchant_id")
            logger.info(
                "request",
                **({"merchant_id": merchant_id} if merchant_id else {}),
                method=scope.get("method", "WEBSOCKET"),
                route=scope.get("path_template") or scope["path"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()

    return middleware

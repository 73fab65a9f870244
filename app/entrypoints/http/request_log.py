"""One structured log line per request, and the request/correlation id (both kept by the
edge middleware, app.entrypoints.http.edge).

`X-Request-ID` is honoured when it looks sane and echoed on every response; it is bound
as the correlation id so it travels into the outbox and on into the workers."""

from __future__ import annotations

import re
import secrets

import structlog
from litestar.types import Scope

from config.logging import info_line

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
logger = structlog.get_logger("fusionxpay.http")


def request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            incoming = value.decode("latin-1")
            if REQUEST_ID_PATTERN.match(incoming):
                return incoming
            break
    return secrets.token_hex(16)  # as uuid4().hex


def log_request(scope: Scope, template: str | None, status: int, duration_s: float) -> None:
    merchant_id = scope.get("state", {}).get("merchant_id")
    fields = {"merchant_id": merchant_id} if merchant_id else {}
    fields.update(method=scope.get("method", "WEBSOCKET"), route=template or scope["path"], path=scope["path"],
                  status=status, duration_ms=round(duration_s * 1000, 2))
    # The line every request writes: configure_logging's chain run directly (the same
    # line, without structlog's per-call machinery), or through structlog when logging is
    # set up otherwise (tests capturing logs).
    if not info_line("request", fields):
        logger.info("request", **fields)

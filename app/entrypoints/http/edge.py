"""The middleware around the whole app (outside the router, so it also covers unknown
paths, 405s and errors answered by the app's exception handler), with one send wrapper
for all of it:

- the request id: `X-Request-ID` honoured when it looks sane, else a fresh one; bound as
  the correlation id (it travels into the outbox and on into the workers) and echoed on
  every response;
- the security headers (app.entrypoints.http.security_headers) on every response;
- the Prometheus HTTP metrics (app.entrypoints.http.metrics) with the status the client got:
  per route, or as unmatched when no route took the request;
- one structured log line per request (app.entrypoints.http.request_log).

One layer instead of four: each costs a coroutine frame, a send wrapper and a scan of the
response headers on every request."""

from __future__ import annotations

import time

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.entrypoints.http.metrics import ROUTE_METRICS
from app.entrypoints.http.request_log import log_request, request_id_of
from app.entrypoints.http.security_headers import response_headers
from config.log_context import clear_context

_bind = structlog.contextvars.bind_contextvars
_clear = clear_context


def edge_middleware(app: ASGIApp, hsts_max_age_s: int = 31_536_000) -> ASGIApp:
    plain, https = response_headers(hsts_max_age_s)

    async def edge(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        method = scope["method"]
        request_id = request_id_of(scope)
        _clear()
        _bind(request_id=request_id, correlation_id=request_id)
        started = time.perf_counter()
        status, answered = 500, started
        extra = https if scope.get("scheme") == "https" else plain
        request_id_header = (b"x-request-id", request_id.encode())

        async def edge_send(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [header for header in extra if header[0] not in present]
                headers.append(request_id_header)
                message["headers"] = headers
            elif message["type"] == "http.response.body":
                answered = time.perf_counter()  # the metrics' duration: until the last body part
            await send(message)

        try:
            await app(scope, receive, edge_send)
        finally:
            template = scope.get("path_template")
            if scope.get("route_handler") is None:
                ROUTE_METRICS.unmatched(method, status)
            elif ROUTE_METRICS.counted(scope["path"]):
                ROUTE_METRICS.finished(method, template, status, max(answered - started, 0.0))
            log_request(scope, template, status, time.perf_counter() - started)
            _clear()

    return edge

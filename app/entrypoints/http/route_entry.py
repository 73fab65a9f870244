"""What every routed request passes first, in one middleware frame (a layer per concern
costs a coroutine frame on every request): it is counted as in progress (Prometheus, per
route), rate limited, and its credential checked against the handler's access rule.

Errors raised here and further in become problem responses at the app's exception
handler, inside the edge (app.entrypoints.http.edge), so the edge's log line and metrics
see the status the client got."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from app.entrypoints.http.access import authorize_scope
from app.entrypoints.http.metrics import ROUTE_METRICS
from app.entrypoints.http.rate_limit import enforce_rate_limits


def route_entry_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        gauge = (ROUTE_METRICS.in_progress(scope["method"], scope["path_template"])
                 if ROUTE_METRICS.counted(scope["path"]) else None)
        if gauge is not None:
            gauge.inc()
        try:
            await enforce_rate_limits(scope)
            await authorize_scope(scope, scope["route_handler"])
            await app(scope, receive, send)
        finally:
            if gauge is not None:
                gauge.dec()

    return middleware

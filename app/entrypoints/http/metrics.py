"""Prometheus: HTTP metrics from Litestar's middleware, served with the process's other
metrics (provider calls, business counters). Not public by default: GET /metrics answers
only with `Authorization: Bearer <FXP_API__METRICS_TOKEN>`, or to anyone when
FXP_API__METRICS_PUBLIC=true; FXP_API__METRICS_PORT serves them on a port of their own
(e.g. one only the scraper's network reaches) instead."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, start_http_server

from app.adapters.observability.business_metrics import refresh_backlog
from app.adapters.queue.broker import ACTOR_QUEUES
from app.domain.errors import NotFound, Unauthenticated
from config.settings import ApiSettings

logger = structlog.get_logger("fusionxpay.metrics")

# group_path: label requests by route template, so ids do not explode the label space.
prometheus_config = PrometheusConfig(app_name="fusionxpay", prefix="fxp", group_path=True,
                                     exclude=["/metrics", "/health"])


# Requests no route took (unknown paths, 405s) never pass the per-route metrics
# middleware; counted here, so every answer is counted with the status the client got.
UNMATCHED = Counter("fxp_unmatched_requests", "Requests that matched no route", ["method", "status_code"])


def count_unmatched(app: ASGIApp) -> ASGIApp:
    async def counting(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        status = [500]

        async def send_and_note(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_and_note)
        finally:
            if scope.get("route_handler") is None:
                UNMATCHED.labels(scope["method"], str(status[0])).inc()

    return counting


def metrics_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    api: ApiSettings = connection.app.state.container.settings.api
    if api.metrics_token:
        scheme, _, token = (connection.headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), api.metrics_token.encode()):
            raise Unauthenticated("metrics need 'Authorization: Bearer <metrics token>'")
    elif not api.metrics_public:
        raise NotFound("not found")


async def refresh_backlog_gauges(request: Request) -> None:
    """Outbox lag and queue depths, read when scraped (they are the system's, not this
    process's). A dependency down leaves the last values: the scrape still answers."""
    container = request.app.state.container
    workers = container.settings.workers
    try:
        async with container.engine.transaction() as transaction:
            await refresh_backlog(transaction.connection, container.redis if workers.broker == "redis" else None,
                                  workers.namespace, ACTOR_QUEUES.values())
    except Exception as exc:
        logger.warning("metrics_backlog_unavailable", error=f"{type(exc).__name__}: {exc}")


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False
    guards = [metrics_guard]
    before_request = staticmethod(refresh_backlog_gauges)


@contextmanager
def metrics_port(api: ApiSettings) -> Iterator[None]:
    """Serve the metrics on api.metrics_port while the app runs (when one is set)."""
    if not api.metrics_port:
        yield
        return
    try:
        server, thread = start_http_server(api.metrics_port, addr=api.host)
    except OSError as exc:  # another worker process of this server has it already
        logger.warning("metrics_port_unavailable", port=api.metrics_port, error=str(exc))
        yield
        return
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

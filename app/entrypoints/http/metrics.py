"""Prometheus: HTTP metrics from Litestar's middleware, served with the process's other
metrics (provider calls, business counters). Not public by default: GET /metrics answers
only with `Authorization: Bearer <FXP_API__METRICS_TOKEN>`, or to anyone when
FXP_API__METRICS_PUBLIC=true; FXP_API__METRICS_PORT serves them on a port of their own
(e.g. one only the scraper's network reaches) instead."""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController, PrometheusMiddleware
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, start_http_server
from prometheus_client.metrics import MetricWrapperBase

from app.adapters.observability.business_metrics import refresh_backlog
from app.adapters.queue.broker import ACTOR_QUEUES
from app.domain.errors import NotFound, Unauthenticated
from config.settings import ApiSettings

logger = structlog.get_logger("fusionxpay.metrics")

class RouteMetricsMiddleware(PrometheusMiddleware):
    """Litestar's Prometheus middleware, same metrics, labels and values, without its
    per-request cost: it builds a Request, two label dicts and looks four label children
    up on every request; here they are looked up once per route and status and kept."""

    def __init__(self, app: ASGIApp, config: PrometheusConfig) -> None:
        super().__init__(app, config)
        self._plain = not (config.labels or config.exemplars or config.excluded_http_methods) and config.group_path
        self._in_progress: dict[tuple[str, str], MetricWrapperBase] = {}
        self._finished: dict[tuple[str, str, int], tuple[MetricWrapperBase, ...]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._plain:  # a configuration this does not cover: Litestar's own way
            await super().__call__(scope, receive, send)
            return
        method: str = scope["method"] if scope["type"] == ScopeType.HTTP else scope["type"]
        path: str = scope["path_template"]
        in_progress = self._in_progress.get((method, path))
        if in_progress is None:
            labels = self._labels(method, path, 200)
            in_progress = self.requests_in_progress(labels).labels(*labels.values())
            self._in_progress[(method, path)] = in_progress
        started = time.perf_counter()
        status, duration = 200, 0.0

        async def measured_send(message: Message) -> None:
            nonlocal status, duration
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                duration = time.perf_counter() - started
            await send(message)

        in_progress.inc()  # type: ignore[attr-defined]
        try:
            await self.app(scope, receive, measured_send)
        finally:
            in_progress.dec()  # type: ignore[attr-defined]
            children = self._finished.get((method, path, status)) or self._children(method, path, status)
            for child in children[2:]:  # the error counter, for a 5xx
                child.inc()  # type: ignore[attr-defined]
            children[0].inc()  # type: ignore[attr-defined]
            children[1].observe(duration)  # type: ignore[attr-defined]

    def _labels(self, method: str, path: str, status: int) -> dict[str, str | int | float]:
        return {"method": method, "path": path, "status_code": status, "app_name": self._config.app_name}

    def _children(self, method: str, path: str, status: int) -> tuple[MetricWrapperBase, ...]:
        labels = self._labels(method, path, status)
        values = [*labels.values()]
        children: tuple[MetricWrapperBase, ...] = (self.request_count(labels).labels(*values),
                                                   self.request_time(labels).labels(*values))
        if status >= 500:
            children += (self.requests_error_count(labels).labels(*values),)
        self._finished[(method, path, status)] = children
        return children


# group_path: label requests by route template, so ids do not explode the label space.
prometheus_config = PrometheusConfig(app_name="fusionxpay", prefix="fxp", group_path=True,
                                     exclude=["/metrics", "/health"], middleware_class=RouteMetricsMiddleware)


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

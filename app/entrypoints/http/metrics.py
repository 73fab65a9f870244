"""Prometheus: HTTP metrics from Litestar's middleware, served with the process's other
metrics (provider calls, business counters). Not public by default: GET /metrics answers
only with `Authorization: Bearer <FXP_API__METRICS_TOKEN>`, or to anyone when
FXP_API__METRICS_PUBLIC=true; FXP_API__METRICS_PORT serves them on a port of their own
(e.g. one only the scraper's network reaches) instead."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusController
from prometheus_client import Counter, Gauge, Histogram, start_http_server

from app.adapters.observability.business_metrics import refresh_backlog
from app.adapters.queue.broker import ACTOR_QUEUES
from app.domain.errors import NotFound, Unauthenticated
from config.settings import ApiSettings

logger = structlog.get_logger("fusionxpay.metrics")

# Litestar's Prometheus middleware's metrics (same names, labels and values), kept by the
# edge (app.entrypoints.http.edge) instead of a middleware layer per route: it builds a
# Request, two label dicts and looks four label children up on every request; here each
# child is looked up once per route and status. Labelled by route template (its
# group_path), so ids do not explode the label space.
LABELS = ["method", "path", "status_code", "app_name"]
APP_NAME = "fusionxpay"
REQUESTS = Counter("fxp_requests_total", "Total requests", LABELS)
DURATION = Histogram("fxp_request_duration_seconds", "Request duration, in seconds", LABELS)
IN_PROGRESS = Gauge("fxp_requests_in_progress", "Total requests currently in progress", LABELS,
                    multiprocess_mode="livesum")
ERRORS = Counter("fxp_requests_error_total", "Total errors in requests", LABELS)
# Requests no route took (unknown paths, 405s): counted with the status the client got.
UNMATCHED = Counter("fxp_unmatched_requests", "Requests that matched no route", ["method", "status_code"])
EXCLUDED = re.compile("/metrics|/health")  # not counted per route (Litestar's `exclude`, matched as it does)


class RouteMetrics:
    """The label children of each route and status, looked up once."""

    def __init__(self) -> None:
        self._in_progress: dict[tuple[str, str], Any] = {}
        self._finished: dict[tuple[str, str, int], tuple[Any, ...]] = {}

    @staticmethod
    def counted(path: str) -> bool:
        return EXCLUDED.search(path) is None

    def in_progress(self, method: str, template: str) -> Any:
        gauge = self._in_progress.get((method, template))
        if gauge is None:  # Litestar labels the gauge with status 200, whatever the answer
            gauge = self._in_progress[(method, template)] = IN_PROGRESS.labels(method, template, 200, APP_NAME)
        return gauge

    def finished(self, method: str, template: str, status: int, duration_s: float) -> None:
        children = self._finished.get((method, template, status))
        if children is None:
            values = (method, template, status, APP_NAME)
            children = (REQUESTS.labels(*values), DURATION.labels(*values),
                        *((ERRORS.labels(*values),) if status >= 500 else ()))
            self._finished[(method, template, status)] = children
        children[0].inc()
        children[1].observe(duration_s)
        for child in children[2:]:  # the error counter, for a 5xx
            child.inc()

    @staticmethod
    def unmatched(method: str, status: int) -> None:
        UNMATCHED.labels(method, str(status)).inc()


ROUTE_METRICS = RouteMetrics()


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

"""Each worker process serves its own metrics (business counters, provider calls, circuit
breakers): one scrape target per process. With FXP_WORKERS__METRICS_PORT=P set, a
process takes the first free port of P .. P+63 when it boots and logs it
(`worker_metrics_port`); scrape P .. P+N-1 for N processes (Prometheus static targets)."""

from __future__ import annotations

from typing import Any

import structlog
from dramatiq import Broker, Middleware
from prometheus_client import start_http_server

import app.adapters.observability.business_metrics  # noqa: F401  (registered before the first scrape)

logger = structlog.get_logger("fusionxpay.workers")
PORTS_TRIED = 64


def serve_metrics(first_port: int, host: str) -> int | None:
    """Serve this process's registry on the first free port from `first_port`; the port, or None."""
    for port in range(first_port, first_port + PORTS_TRIED):
        try:
            start_http_server(port, addr=host)
        except OSError:
            continue
        return port
    return None


class MetricsExposition(Middleware):
    def __init__(self, first_port: int, host: str = "127.0.0.1") -> None:
        self.first_port, self.host = first_port, host
        self.port: int | None = None

    def after_process_boot(self, broker: Broker) -> None:
        self.port = serve_metrics(self.first_port, self.host)
        if self.port is None:
            logger.warning("worker_metrics_unavailable", first_port=self.first_port, tried=PORTS_TRIED)
        else:
            logger.info("worker_metrics_port", port=self.port)

    def after_worker_boot(self, broker: Broker, worker: Any) -> None:
        if self.port is None and self.first_port:  # a worker embedded in a process that never "booted"
            self.after_process_boot(broker)

"""Prometheus: HTTP metrics from Litestar's middleware, served with the process's other
metrics (provider calls, business counters) at GET /metrics."""

from __future__ import annotations

from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

# group_path: label requests by route template, so ids do not explode the label space.
prometheus_config = PrometheusConfig(app_name="fusionxpay", prefix="fxp", group_path=True,
                                     exclude=["/metrics", "/health"])


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False

"""HTTP server spans from Litestar's own OpenTelemetryPlugin, on the process's tracer
(FXP_TELEMETRY__ENABLED; none when off). Scrapes and liveness probes are not traced."""

from __future__ import annotations

from litestar.contrib.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin
from litestar.plugins import PluginProtocol
from opentelemetry.sdk.trace import TracerProvider


def tracing_plugins(provider: TracerProvider | None) -> list[PluginProtocol]:
    if provider is None:
        return []
    return [OpenTelemetryPlugin(OpenTelemetryConfig(tracer_provider=provider, exclude=["/metrics", "/health"]))]

"""OpenTelemetry set-up, off by default (FXP_TELEMETRY__ENABLED=true turns it on).

One TracerProvider per process, exporting over OTLP/HTTP (FXP_TELEMETRY__OTLP_ENDPOINT)
or to a given exporter (tests: in memory). It instruments asyncpg, redis and httpx
(process-wide patches of their clients); the HTTP server spans come from Litestar's own
OpenTelemetryPlugin (app/entrypoints/http/app.py) and the worker spans from our Dramatiq
middleware (app/workers/tracing.py), both given this provider."""

from __future__ import annotations

from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter

from config.settings import TelemetrySettings

INSTRUMENTORS = (AsyncPGInstrumentor, RedisInstrumentor, HTTPXClientInstrumentor)


def build_tracing(telemetry: TelemetrySettings, role: str, exporter: SpanExporter | None = None
                  ) -> TracerProvider | None:
    """The process's TracerProvider with the client libraries instrumented, or None (off).
    `role`: "api" or "worker", part of service.instance.role in every span's resource."""
    if exporter is None and not telemetry.enabled:
        return None
    provider = TracerProvider(resource=Resource.create({
        "service.name": telemetry.service_name, "fusionxpay.role": role}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=telemetry.otlp_endpoint or None)))
    for instrumentor in INSTRUMENTORS:
        instrumentor().instrument(tracer_provider=provider)
    return provider


def stop_tracing(provider: TracerProvider | None) -> None:
    """Flush and stop exporting; the client libraries are uninstrumented again."""
    if provider is None:
        return
    for instrumentor in INSTRUMENTORS:
        instrumentor().uninstrument()
    provider.shutdown()

"""Tracing is off by default: no tracer, no Litestar plugin, no Dramatiq middleware, and
nothing carried through the outbox."""

from __future__ import annotations

from app.adapters.observability.trace_context import context_of, current_traceparent
from app.adapters.observability.tracing import build_tracing
from app.entrypoints.http.tracing import tracing_plugins
from app.workers.broker import build_middleware
from app.workers.middleware import ContainerBoot
from app.workers.tracing import TraceContext
from config.settings import Settings, TelemetrySettings
from tests.unit.fake_container import fake_container


def test_off_by_default():
    assert Settings().telemetry.enabled is False
    assert build_tracing(TelemetrySettings(), "api") is None
    container = fake_container()
    assert container.tracing is None and tracing_plugins(container.tracing) == []
    middleware = build_middleware(container.settings, ContainerBoot(lambda broker: None))  # type: ignore[arg-type,return-value]
    assert not any(isinstance(m, TraceContext) for m in middleware)


def test_nothing_is_carried_without_a_span():
    assert current_traceparent() is None and context_of(None) is None

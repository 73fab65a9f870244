"""W3C trace context carried where a trace crosses a process: into the outbox row with the
event, from the row onto the message, from the message into the worker's span. With
tracing off there is no current span and nothing is carried (None)."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context

TRACEPARENT = "traceparent"  # message option and outbox column


def current_traceparent() -> str | None:
    if not trace.get_current_span().get_span_context().is_valid:
        return None  # tracing off, or no span: nothing to carry (and no propagator run per commit)
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_of(traceparent: str | None) -> Context | None:
    """The remote parent a message names (None: start a new trace)."""
    if not traceparent:
        return None
    carrier: Mapping[str, str] = {TRACEPARENT: traceparent}
    return propagate.extract(carrier)

"""Dramatiq middleware that carries a trace through the queue: a message enqueued inside a
span takes its `traceparent` along (the outbox relay sets it from the outbox row); the
worker runs the actor in a CONSUMER span whose parent is that traceparent, so the
provider call the actor makes (an httpx span) lands in the request's trace."""

from __future__ import annotations

from typing import Any

from dramatiq import Broker, Middleware
from dramatiq.broker import MessageProxy
from dramatiq.message import Message
from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider

from app.adapters.observability.trace_context import TRACEPARENT, context_of, current_traceparent


class TraceContext(Middleware):
    def __init__(self, provider: TracerProvider) -> None:
        self._tracer = provider.get_tracer("fusionxpay.workers")
        self._running: dict[str, tuple[trace.Span, object]] = {}  # message id -> (span, context token)

    @property
    def actor_options(self) -> set[str]:
        return {TRACEPARENT}

    def before_enqueue(self, broker: Broker, message: Message[Any], delay: int) -> None:
        if TRACEPARENT not in message.options and (parent := current_traceparent()):
            message.options[TRACEPARENT] = parent

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        span = self._tracer.start_span(
            f"{message.actor_name} process", context=context_of(message.options.get(TRACEPARENT)),
            kind=SpanKind.CONSUMER, attributes={
                "messaging.system": "dramatiq", "messaging.operation": "process",
                "messaging.destination.name": message.queue_name, "messaging.message.id": message.message_id,
                "fusionxpay.actor": message.actor_name, "fusionxpay.retries": message.options.get("retries", 0)})
        # Attached in the worker thread: an async actor's coroutine runs in a copy of this context.
        self._running[message.message_id] = (span, context.attach(trace.set_span_in_context(span)))

    def after_process_message(self, broker: Broker, message: MessageProxy, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        running = self._running.pop(message.message_id, None)
        if running is None:
            return
        span, token = running
        if exception is not None:
            span.record_exception(exception)
            span.set_status(Status(StatusCode.ERROR, type(exception).__name__))
        span.end()
        context.detach(token)  # type: ignore[arg-type]

    def after_skip_message(self, broker: Broker, message: MessageProxy) -> None:
        self.after_process_message(broker, message)

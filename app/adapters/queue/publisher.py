"""Sending messages to our Dramatiq actors by name (the outbox relay, the webhook retry
scheduler, the periodic scheduler, admin resends): a message names its actor and queue,
so the sender never imports actor code. Broker clients block: async callers use a thread."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

import structlog
from dramatiq import Broker, Message

from app.adapters.queue.broker import ACTOR_QUEUES


class DramatiqPublisher:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def _queue(self, actor: str) -> str:
        declared = self.broker.actors.get(actor)  # a test's own actor on this broker
        return declared.queue_name if declared is not None else ACTOR_QUEUES[actor]

    def publish(self, actor: str, kwargs: dict[str, Any], correlation_id: str | None = None,
                delay_ms: int | None = None, options: Mapping[str, Any] | None = None) -> None:
        """Hand one message to the broker; returns once the broker has accepted it."""
        message_options = dict(options or {})
        if correlation_id:
            message_options["correlation_id"] = correlation_id
        message: Message[Any] = Message(queue_name=self._queue(actor), actor_name=actor, args=(), kwargs=kwargs,
                          options=message_options)
        self.broker.enqueue(message, delay=delay_ms)


class DramatiqRetryScheduler:
    """The webhook use case's RetryScheduler with workers: the next attempt is a delayed
    message (the delivery schedule, not the generic retry backoff, decides when)."""

    def __init__(self, publisher: DramatiqPublisher, actor: str = "notify_merchant") -> None:
        self._publisher = publisher
        self._actor = actor

    async def schedule(self, event_id: uuid.UUID, attempt: int, delay_s: float, *, resend: bool = False) -> None:
        correlation_id = structlog.contextvars.get_contextvars().get("correlation_id")
        kwargs = {"event_id": str(event_id), "attempt": attempt, "resend": resend}
        delay_ms = round(delay_s * 1000) or None
        await asyncio.to_thread(self._publisher.publish, self._actor, kwargs, correlation_id, delay_ms)

"""Sending messages to our Dramatiq actors by name: the outbox relay's publisher and
the webhook retry scheduler. Broker clients block, so async callers use a thread."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import structlog
from dramatiq import Broker


class DramatiqPublisher:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def publish(self, actor: str, kwargs: dict[str, Any], correlation_id: str | None,
                delay_ms: int | None = None) -> None:
        options = {"correlation_id": correlation_id} if correlation_id else {}
        message = self.broker.get_actor(actor).message_with_options(kwargs=kwargs, **options)
        self.broker.enqueue(message, delay=delay_ms)


class DramatiqRetryScheduler:
    """The webhook use case's RetryScheduler: the next attempt is a delayed message (the
    delivery schedule, not the generic retry backoff, decides when)."""

    def __init__(self, publisher: DramatiqPublisher, actor: str = "notify_merchant") -> None:
        self._publisher = publisher
        self._actor = actor

    async def schedule(self, event_id: uuid.UUID, attempt: int, delay_s: float, *, resend: bool = False) -> None:
        correlation_id = structlog.contextvars.get_contextvars().get("correlation_id")
        kwargs = {"event_id": str(event_id), "attempt": attempt, "resend": resend}
        delay_ms = round(delay_s * 1000) or None
        await asyncio.to_thread(self._publisher.publish, self._actor, kwargs, correlation_id, delay_ms)

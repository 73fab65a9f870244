"""Sending messages to our Dramatiq actors by name (the outbox relay, webhook wake-ups,
the periodic scheduler): a message names its actor and queue, so the sender never
imports actor code. Broker clients block: async callers use a thread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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

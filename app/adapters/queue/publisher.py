"""Sending messages to our Dramatiq actors by name (the outbox relay, webhook wake-ups,
the periodic scheduler): a message names its actor and queue, so the sender never
imports actor code. Broker clients block: async callers use a thread.

`publish_many` sends a batch: on Redis in one pipeline (one round trip and one socket
write for the relay's whole batch instead of one per message), elsewhere one by one. It
reports which messages the broker accepted, in order, so a caller marks only those sent."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from dramatiq import Broker, Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis

from app.adapters.queue.broker import ACTOR_QUEUES

PIPELINE_CHUNK = 500  # commands per Redis pipeline: bounded replies, bounded buffers


class Outgoing(NamedTuple):
    """One message to send: its actor, keyword arguments, correlation id and options."""

    actor: str
    kwargs: dict[str, Any]
    correlation_id: str | None = None
    options: Mapping[str, Any] | None = None


class DramatiqPublisher:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def _queue(self, actor: str) -> str:
        declared = self.broker.actors.get(actor)  # a test's own actor on this broker
        return declared.queue_name if declared is not None else ACTOR_QUEUES[actor]

    def _message(self, actor: str, kwargs: dict[str, Any], correlation_id: str | None,
                 options: Mapping[str, Any] | None) -> Message[Any]:
        message_options = dict(options or {})
        if correlation_id:
            message_options["correlation_id"] = correlation_id
        return Message(queue_name=self._queue(actor), actor_name=actor, args=(), kwargs=kwargs,
                       options=message_options)

    def publish(self, actor: str, kwargs: dict[str, Any], correlation_id: str | None = None,
                delay_ms: int | None = None, options: Mapping[str, Any] | None = None) -> None:
        """Hand one message to the broker; returns once the broker has accepted it."""
        self.broker.enqueue(self._message(actor, kwargs, correlation_id, options), delay=delay_ms)

    def publish_many(self, batch: Sequence[Outgoing], accepted: list[bool]) -> None:
        """Hand a batch to the broker, appending to `accepted` per message whether the
        broker took it, as that becomes known. A connection failing midway raises; what
        `accepted` holds then is what is known to be queued (more may be: consumers dedupe,
        as for any redelivery)."""
        if isinstance(self.broker, RedisBroker) and type(self).publish is DramatiqPublisher.publish:
            accepted += _redis_enqueue_many(self.broker, [self._message(*outgoing) for outgoing in batch])
            return
        send_each(self, batch, accepted)  # (a subclass's own publish: tests wrap it)


class Publisher(Protocol):
    def publish(self, actor: str, kwargs: dict[str, Any], correlation_id: str | None = None, *,
                options: Mapping[str, Any] | None = None) -> None:
        """Hand one message to the broker; returns once the broker has accepted it."""


def send_each(publisher: Publisher, batch: Sequence[Outgoing], accepted: list[bool]) -> None:
    for actor, kwargs, correlation_id, options in batch:
        if options is None:
            publisher.publish(actor, kwargs, correlation_id)
        else:
            publisher.publish(actor, kwargs, correlation_id, options=options)
        accepted.append(True)


def send_batch(publisher: Publisher, batch: Sequence[Outgoing], accepted: list[bool]) -> None:
    """`publisher.publish_many` where the publisher has it (DramatiqPublisher: a Redis
    pipeline), else one `publish` per message (stand-ins in tests)."""
    many = getattr(publisher, "publish_many", None)
    if many is not None:
        many(batch, accepted)
    else:
        send_each(publisher, batch, accepted)


def _redis_enqueue_many(broker: RedisBroker, messages: list[Message[Any]]) -> list[bool]:
    """RedisBroker.enqueue for many messages in one pipeline: the same middleware hooks,
    the same per-enqueue Redis message id and the same dispatch script call."""
    accepted: list[bool] = []
    script = broker.scripts["dispatch"]
    for start in range(0, len(messages), PIPELINE_CHUNK):
        chunk = [message.copy(options={"redis_message_id": str(uuid.uuid4())})
                 for message in messages[start:start + PIPELINE_CHUNK]]
        pipe = broker.client.pipeline(transaction=False)
        for message in chunk:
            broker.emit_before("enqueue", message, None)
            args = ["enqueue", current_millis(), message.queue_name, broker.broker_id,
                    broker.heartbeat_timeout, broker.dead_message_ttl, broker._should_do_maintenance("enqueue"),
                    broker._max_unpack_size(), message.options["redis_message_id"], message.encode()]
            script(keys=[broker.namespace], args=args, client=pipe)
        wake = getattr(broker, "wake_queues", None)  # a broker that wakes idle consumers (see broker.py)
        if wake is not None:
            wake(pipe, {message.queue_name for message in chunk})
        replies = pipe.execute(raise_on_error=False)
        for message, reply in zip(chunk, replies, strict=False):
            ok = not isinstance(reply, Exception)
            if ok:
                broker.emit_after("enqueue", message, None)
            accepted.append(ok)
    return accepted

"""Dead letters on RabbitMQ: `<queue>.XQ` queues. RabbitMQ has no "peek", so a listing
takes every message unacknowledged on a private connection and closes it, which puts
them all back; a replay acknowledges only what it re-sent."""

from __future__ import annotations

from collections.abc import Callable

import pika
from dramatiq import Message
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.common import xq_name
from pika.exceptions import ChannelClosedByBroker

from app.adapters.queue.dead_letters import DeadLetter, describe, replayable


class RabbitmqDeadLetters:
    def __init__(self, broker: RabbitmqBroker) -> None:
        self._broker = broker

    def _visit(self, take: Callable[[Message], bool]) -> None:
        """Call `take` on every dead letter; those it returns True for are acknowledged."""
        connection = pika.BlockingConnection(self._broker.parameters)
        try:
            for queue in sorted(self._broker.get_declared_queues()):
                channel = connection.channel()
                try:
                    # Only what is there now: a replayed message that fails again while we
                    # walk the queue must not come round a second time.
                    waiting = channel.queue_declare(xq_name(queue), passive=True).method.message_count
                    for _ in range(waiting):
                        method, _, body = channel.basic_get(xq_name(queue), auto_ack=False)
                        if method is None:
                            break
                        if take(Message.decode(body)):
                            channel.basic_ack(method.delivery_tag)
                except ChannelClosedByBroker:  # the queue was never declared: nothing dead
                    continue
        finally:
            connection.close()  # everything not acknowledged goes back to its queue

    def list(self) -> list[DeadLetter]:
        found: list[DeadLetter] = []

        def look(message: Message) -> bool:
            found.append(describe(message))
            return False

        self._visit(look)
        return found

    def replay(self, message_id: str | None) -> int:
        replayed = 0

        def take(message: Message) -> bool:
            nonlocal replayed
            if message_id not in (None, message.message_id):
                return False
            self._broker.enqueue(replayable(message))
            replayed += 1
            return True

        self._visit(take)
        return replayed

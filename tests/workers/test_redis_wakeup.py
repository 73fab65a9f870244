"""Idle Redis consumers are woken by sends (issue 17, item 4): a consumer whose poll backoff
has grown to its whole idle timeout (ten minutes here) still gets a message sent meanwhile,
because the send's wake-up ends its wait. Real Redis, a key namespace of the test's own."""

from __future__ import annotations

import threading
import time
import uuid

import dramatiq
import pytest
from dramatiq import Message

from app.adapters.queue.publisher import DramatiqPublisher, Outgoing
from app.adapters.queue.redis_wakeup import WakingRedisBroker, wake_channel

TEN_MINUTES_MS = 600_000


@pytest.fixture
def own_broker(settings):
    broker = WakingRedisBroker(url=settings.redis.url, namespace=f"fxp-test-{uuid.uuid4().hex[:8]}")
    broker.declare_queue("wake")
    dramatiq.actor(lambda: None, broker=broker, actor_name="noop", queue_name="wake")
    yield broker
    for key in list(broker.client.scan_iter(f"{broker.namespace}:*")):  # ours only
        broker.client.delete(key)
    broker.close()


def _subscribers(broker: WakingRedisBroker, queue: str) -> int:
    [(_, count)] = broker.client.pubsub_numsub(wake_channel(broker.namespace, queue))
    return int(count)


def _send_one(broker: WakingRedisBroker) -> str:
    return broker.enqueue(Message(queue_name="wake", actor_name="noop", args=(), kwargs={}, options={})).message_id


def _send_batch(broker: WakingRedisBroker) -> str:
    # The relay's way: a batch in one Redis pipeline, the wake-up in the same pipeline.
    accepted: list[bool] = []
    DramatiqPublisher(broker).publish_many([Outgoing("noop", {})], accepted)
    assert accepted == [True]
    return ""  # (the pipeline makes its own message ids)


@pytest.mark.parametrize("send", [_send_one, _send_batch], ids=["enqueue", "publish_many"])
def test_a_send_wakes_a_consumer_waiting_out_its_idle_timeout(own_broker, send):
    consumer = own_broker.consume("wake", prefetch=2, timeout=TEN_MINUTES_MS)
    consumer.misses = 40  # its backoff has grown to the idle timeout: 5 to 10 minutes
    seen: list[object] = []

    def consume() -> None:
        seen.append(next(consumer))  # fetches nothing, then waits for a wake-up
        seen.append(next(consumer))  # the message

    thread = threading.Thread(target=consume, daemon=True)
    try:
        thread.start()
        deadline = time.monotonic() + 30
        # It subscribes before its fetch, and found the queue empty: it waits now (or is
        # about to, and then the wake-up its subscription already holds ends the wait).
        while _subscribers(own_broker, "wake") < 1 or not consumer._drained:  # type: ignore[attr-defined]
            assert time.monotonic() < deadline, "the consumer never subscribed to its wake-ups"
            time.sleep(0.01)
        sent = send(own_broker)
        thread.join(timeout=120)
        assert not thread.is_alive(), "the send did not wake the consumer (its next poll is minutes away)"
        assert seen[0] is None
        assert seen[1].actor_name == "noop"  # type: ignore[attr-defined]
        assert sent in ("", seen[1].message_id)  # type: ignore[attr-defined]
        consumer.ack(seen[1])
    finally:
        consumer.close()
        assert _subscribers(own_broker, "wake") == 0  # closing drops its wake-up connection


def test_a_send_with_nobody_waiting_still_queues_the_message(own_broker):
    sent = own_broker.enqueue(Message(queue_name="wake", actor_name="noop", args=(), kwargs={}, options={}))
    consumer = own_broker.consume("wake", prefetch=1, timeout=100)
    try:
        message = next(consumer)
        assert message is not None and message.message_id == sent.message_id
        consumer.ack(message)
    finally:
        consumer.close()

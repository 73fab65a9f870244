"""The outbox relay on real PostgreSQL, publishing to a StubBroker worked by a Worker."""

from __future__ import annotations

import asyncio
import collections
import time

import pytest

from app.adapters.queue.outbox_relay import OutboxRelay
from app.domain.routing import Route
from app.adapters.queue.publisher import DramatiqPublisher
from tests.workers.conftest import PINGS, add_event, join, published_at

PING_ROUTES = {"test.ping": [Route("test_ping", lambda event: {"event_id": str(event.id)})]}


class SlowPublisher(DramatiqPublisher):
    """Takes a moment per message, so concurrent relays really overlap."""

    def publish(self, *args, **kwargs) -> None:
        time.sleep(0.002)
        super().publish(*args, **kwargs)


class FailingPublisher(DramatiqPublisher):
    """The broker goes away after `accept` messages."""

    def __init__(self, broker, accept: int) -> None:
        super().__init__(broker)
        self.accept = accept

    def publish(self, *args, **kwargs) -> None:
        if self.accept <= 0:
            raise ConnectionError("broker unreachable")
        self.accept -= 1
        super().publish(*args, **kwargs)


@pytest.fixture
def relay(container, stub_broker, quiet_outbox) -> OutboxRelay:
    return OutboxRelay(container.engine, DramatiqPublisher(stub_broker), PING_ROUTES, batch_size=50)


async def test_relay_publishes_each_row_once_and_marks_it(relay, stub_broker, worker):
    event_ids = [await add_event("test.ping", correlation_id=f"corr-{n}") for n in range(5)]
    assert await relay.drain() >= 5
    assert await relay.drain() == 0  # nothing left: published rows are not claimed again
    await join(stub_broker, "test")
    assert sorted(event_id for event_id, _ in PINGS) == sorted(str(e) for e in event_ids)
    assert {correlation for _, correlation in PINGS} == {f"corr-{n}" for n in range(5)}
    assert all(at is not None for at in (await published_at(event_ids)).values())


async def test_rows_without_consumers_are_marked_published_without_messages(relay, stub_broker):
    event_id = await add_event("order.created")
    assert await relay.relay_once() == 1
    assert stub_broker.queues["test"].qsize() == 0
    assert (await published_at([event_id]))[event_id] is not None


async def test_two_relays_concurrently_publish_each_row_exactly_once(container, stub_broker, quiet_outbox):
    event_ids = [await add_event("test.ping") for _ in range(200)]
    relays = [OutboxRelay(container.engine, SlowPublisher(stub_broker), PING_ROUTES, batch_size=20) for _ in range(2)]
    counts = await asyncio.gather(*(relay.drain(budget_s=30) for relay in relays))
    assert sum(counts) == 200 and all(count > 0 for count in counts)  # SKIP LOCKED split the work
    sent = collections.Counter(message.kwargs["event_id"] for message in _queued(stub_broker, "test"))
    assert sent == collections.Counter({str(event_id): 1 for event_id in event_ids})
    assert all(at is not None for at in (await published_at(event_ids)).values())


async def test_broker_failure_leaves_rows_unpublished_for_a_later_relay(container, stub_broker, quiet_outbox):
    event_ids = [await add_event("test.ping") for _ in range(10)]
    broken = OutboxRelay(container.engine, FailingPublisher(stub_broker, accept=4), PING_ROUTES)
    with pytest.raises(ConnectionError):
        await broken.drain()
    marks = await published_at(event_ids)
    assert sum(at is not None for at in marks.values()) == 4  # what the broker took is kept
    healthy = OutboxRelay(container.engine, DramatiqPublisher(stub_broker), PING_ROUTES)
    assert await healthy.drain() == 6
    sent = collections.Counter(message.kwargs["event_id"] for message in _queued(stub_broker, "test"))
    assert sent == collections.Counter({str(event_id): 1 for event_id in event_ids})


async def test_a_relay_that_dies_mid_batch_loses_nothing(container, stub_broker, quiet_outbox):
    event_ids = [await add_event("test.ping") for _ in range(5)]

    class Killed(BaseException):
        """Not an Exception: like a kill, the relay gets no chance to keep anything."""

    class Dying(DramatiqPublisher):
        def publish(self, *args, **kwargs) -> None:
            raise Killed

    with pytest.raises(Killed):
        await OutboxRelay(container.engine, Dying(stub_broker), PING_ROUTES).relay_once()
    assert all(at is None for at in (await published_at(event_ids)).values())
    assert await OutboxRelay(container.engine, DramatiqPublisher(stub_broker), PING_ROUTES).drain() == 5


def _queued(broker, queue: str):
    from dramatiq import Message

    pending = broker.queues[queue]
    return [Message.decode(data) for data in list(pending.queue)]

"""One routing table, two transports: for every routed event type, the in-process bus
(inline dispatch) and the outbox relay's messages worked by the Dramatiq actors reach
the same consumers with the same arguments, merchant webhooks included."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import UTC, datetime

import msgspec
import pytest
from dramatiq import Worker

from app.adapters.queue.inline_bus import InProcessEventBus
from app.adapters.queue.outbox_relay import OutboxRelay
from app.adapters.queue.publisher import DramatiqPublisher
from app.domain.events import DomainEvent
from app.domain.routing import CONSUMERS, EVENT_ROUTES, messages_for
from app.domain.services.consumers import EventConsumers
from app.domain.services.notifications import NOTIFIED_EVENTS, DeliveryOutcome, StoredEvent
from config.settings import Settings

PAYLOADS = {"payment.requested": {"payment_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4())},
            "payment.succeeded": {"payment_id": str(uuid.uuid4()), "order_id": str(uuid.uuid4())},
            "refund.requested": {"refund_id": str(uuid.uuid4())}}


class Recorder:
    """Stands in for the payment, refund, notification and fulfillment use cases: records each call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def consumers(self) -> EventConsumers:
        recorder = self

        class Payments:
            async def dispatch(self, attempt_id: uuid.UUID) -> None:
                recorder.calls.append(("payments.dispatch", attempt_id))

        class Refunds:
            async def dispatch(self, refund_id: uuid.UUID) -> None:
                recorder.calls.append(("refunds.dispatch", refund_id))

        class Notifications:
            async def deliver(self, event_id: uuid.UUID, attempt: int = 1, *, resend: bool = False) -> DeliveryOutcome:
                recorder.calls.append(("notifications.deliver", (event_id, attempt, resend)))
                return DeliveryOutcome.DELIVERED

        class Fulfillment:
            async def allocate(self, event_id: uuid.UUID, merchant_id: uuid.UUID, order_id: uuid.UUID,
                               payment_id: uuid.UUID) -> None:
                recorder.calls.append(("fulfillment.allocate", (event_id, merchant_id, order_id, payment_id)))

        class Customers:
            async def notify_event(self, event_id: uuid.UUID) -> list:
                recorder.calls.append(("customers.notify_event", event_id))
                return []

        return EventConsumers(Payments(), Refunds(), Notifications(), Fulfillment(),  # type: ignore[arg-type]
                              Customers())  # type: ignore[arg-type]


class ProcessedNothingYet:
    async def once(self, consumer, event_id, effect, **options):
        return await effect()


def event_of(event_type: str) -> DomainEvent:
    return DomainEvent(event_type, uuid.uuid4(), uuid.uuid4(), datetime.now(UTC), PAYLOADS.get(event_type, {}))


async def in_process(event: DomainEvent) -> list[tuple[str, object]]:
    recorder, bus = Recorder(), InProcessEventBus()
    bus.serve(recorder.consumers().by_name())
    await bus.publish([event])
    await bus.drain()
    return recorder.calls


async def through_the_relay_and_actors(event: DomainEvent) -> list[tuple[str, object]]:
    from app.bootstrap import build_container
    from app.workers.broker import build_broker, container_boot

    base = Settings()
    settings = msgspec.structs.replace(base, workers=msgspec.structs.replace(base.workers, broker="stub"),
                                       payments=msgspec.structs.replace(base.payments, dispatch="outbox"))
    broker = build_broker(settings, loop=asyncio.get_running_loop())
    recorder = Recorder()
    container = dataclasses.replace(build_container(settings, broker=broker), consumers=recorder.consumers(),
                                    processed=ProcessedNothingYet())
    container_boot(broker).use(container)
    stored = StoredEvent(event.id, event.type, event.merchant_id, event.payload, event.occurred_at, "req-1")
    relay = OutboxRelay(container.engine, DramatiqPublisher(broker))
    relay._publish([stored], accepted := [])  # what relay_once does with the rows it claimed
    assert accepted == [event.id]
    worker = Worker(broker, worker_timeout=20, worker_threads=1)
    worker.start()
    try:
        for queue in broker.get_declared_queues():
            await asyncio.to_thread(broker.join, queue, timeout=10_000)
    finally:
        await asyncio.to_thread(worker.stop)
        await container.redis.aclose()
    return recorder.calls


@pytest.mark.parametrize("event_type", sorted(EVENT_ROUTES))
async def test_every_event_reaches_the_same_consumers_in_both_modes(event_type):
    event = event_of(event_type)
    inline = await in_process(event)
    relayed = await through_the_relay_and_actors(event)
    assert inline and sorted(inline, key=str) == sorted(relayed, key=str)


def test_merchant_webhooks_are_routed_for_every_notified_event():
    for event_type in NOTIFIED_EVENTS:
        assert ("notify_merchant", {"event_id": "x"}) in [
            (name, {k: "x" for k in kwargs}) for name, kwargs in messages_for(event_of(event_type))]


def test_each_consumer_is_an_in_process_handler_and_an_actor():
    from app.workers.broker import build_broker

    base = Settings()
    broker = build_broker(msgspec.structs.replace(base, workers=msgspec.structs.replace(base.workers, broker="stub")))
    assert CONSUMERS <= set(Recorder().consumers().by_name()) and CONSUMERS <= set(broker.actors)

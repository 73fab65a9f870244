"""The fakes behave like the database where a use case could tell the difference."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from app.domain.errors import Conflict, InvalidCallback, UnknownProvider
from app.domain.model.card import CardToken
from app.domain.model.money import Money
from app.domain.model.order import Order, OrderStatus
from app.domain.model.payment import AttemptStatus
from app.domain.model.refund import Refund
from app.domain.model.provider import CallbackKind, Outcome, PaymentRequest, ProviderEvent, ProviderResult
from tests.unit.builders import NOW, attempt_for, new_order
from tests.unit.fake_providers import FakeProvider, FakeProviderRegistry, InMemoryCardDataCache
from tests.unit.fakes import (
    FakeClock, InMemoryEventBus, InMemoryLockManager, InMemoryUnitOfWorkFactory, UniqueViolation,
)

LATER = NOW + timedelta(minutes=1)


def with_event() -> Order:
    """A new order that has recorded one event, not yet collected."""
    order = new_order()
    order.modify(LATER, description="changed")
    return order


@pytest.fixture
def uow() -> InMemoryUnitOfWorkFactory:
    return InMemoryUnitOfWorkFactory()


async def test_uncommitted_work_is_rolled_back(uow):
    order = new_order()
    async with uow() as unit:
        assert await unit.orders.add(order)
        assert await unit.orders.get(order.merchant_id, order.id) is not None  # visible to itself
    async with uow() as unit:
        assert await unit.orders.get(order.merchant_id, order.id) is None
    assert unit.committed is False and uow.db.orders == {} and uow.commits == 0


async def test_an_exception_rolls_back(uow):
    with pytest.raises(RuntimeError):
        async with uow() as unit:
            await unit.orders.add(new_order())
            raise RuntimeError("boom")
    assert uow.db.orders == {}


async def test_commit_publishes_rows_and_events_once(uow):
    order = new_order()
    order.start_payment(LATER, 3)
    async with uow() as unit:
        await unit.orders.add(order)
        await unit.orders.save(order)  # the same aggregate twice: its events once
        await unit.commit()
    assert unit.committed and uow.commits == 1
    assert [e.type for e in uow.outbox] == ["order.status_changed"] and order.events == []
    assert uow.db.orders[order.id].status is OrderStatus.PAYMENT_IN_PROGRESS


async def test_changes_to_a_loaded_aggregate_do_not_leak_without_save(uow):
    order = new_order()
    uow.seed(order)
    async with uow() as unit:
        loaded = await unit.orders.get(order.merchant_id, order.id)
        loaded.cancel(LATER)
        assert (await unit.orders.get(order.merchant_id, order.id)).status is OrderStatus.CREATED
        await unit.commit()
    assert uow.db.orders[order.id].status is OrderStatus.CREATED
    assert [e.type for e in uow.outbox] == ["order.status_changed"]  # tracked, as the Piccolo one does


async def test_get_checks_the_merchant(uow):
    order = new_order()
    uow.seed(order, attempt := attempt_for(order))
    async with uow() as unit:
        assert await unit.orders.get(uuid.uuid4(), order.id) is None
        assert await unit.payments.get(attempt.id, merchant_id=uuid.uuid4()) is None
        assert (await unit.payments.get(attempt.id, merchant_id=order.merchant_id)).id == attempt.id


async def test_merchant_reference_is_unique_per_merchant(uow):
    first = new_order(reference="ref-1")
    async with uow() as unit:
        assert await unit.orders.add(first)
        assert not await unit.orders.add(new_order(first.merchant_id, reference="ref-1"))
        assert await unit.orders.add(new_order(reference="ref-1"))
        assert (await unit.orders.get_by_reference(first.merchant_id, "ref-1")).id == first.id


async def test_one_attempt_in_flight_and_one_success_per_order(uow):
    order = new_order()
    uow.seed(order, attempt_for(order, AttemptStatus.PENDING, 1))
    async with uow() as unit:
        with pytest.raises(Conflict) as raised:  # translated, as the Piccolo repository does
            await unit.payments.add(attempt_for(order, AttemptStatus.INITIATED, 2))
    assert raised.value.code == "payment_in_progress"
    assert raised.value.details["constraint"] == "payment_attempts_one_in_flight"
    paid = attempt_for(order, AttemptStatus.SUCCESS, 3)
    uow.seed(paid)
    async with uow() as unit:
        [pending, _] = await unit.payments.for_order(order.id)
        pending.succeed(LATER)
        with pytest.raises(UniqueViolation) as violation:
            await unit.payments.save(pending)
    assert violation.value.constraint == "payment_attempts_one_success"


async def test_primary_key_is_unique(uow):
    order = new_order()
    refund = Refund.request(attempt_for(order, AttemptStatus.SUCCESS), NOW)
    uow.seed(order, refund)
    async with uow() as unit:
        assert not await unit.orders.add(order)  # ON CONFLICT DO NOTHING covers the key too
        with pytest.raises(UniqueViolation) as violation:
            await unit.refunds.add(refund)
    assert violation.value.constraint == "refunds_pkey"


async def test_stale_attempts_and_refunds_oldest_first(uow):
    old_order, new_order_ = new_order(), new_order()
    stale = attempt_for(old_order, AttemptStatus.PENDING)
    fresh = attempt_for(new_order_, AttemptStatus.INITIATED)
    fresh.updated_at = LATER
    done = attempt_for(new_order(), AttemptStatus.SUCCESS)
    waiting, settled = Refund.request(done, NOW), Refund.request(attempt_for(new_order(), AttemptStatus.SUCCESS), NOW)
    settled.settle(NOW, succeeded=True)
    uow.seed(stale, fresh, done, waiting, settled)
    async with uow() as unit:
        assert [a.id for a in await unit.payments.unsettled(LATER + timedelta(seconds=1), 10)] == [stale.id, fresh.id]
        assert [a.id for a in await unit.payments.unsettled(LATER, 10)] == [stale.id]
        assert [a.id for a in await unit.payments.unsettled(LATER + timedelta(seconds=1), 1)] == [stale.id]
        assert await unit.refunds.claim_due(NOW, 60, 10) == []  # not due before its first-dispatch grace
        due_at = waiting.next_attempt_at
        assert [r.id for r in await unit.refunds.claim_due(due_at, 60, 10)] == [waiting.id]
        assert await unit.refunds.claim_due(due_at, 60, 10) == []  # leased: not handed out twice


async def test_one_refund_per_payment(uow):
    paid = attempt_for(new_order(), AttemptStatus.SUCCESS)
    uow.seed(paid, Refund.request(paid, NOW))
    async with uow() as unit:
        with pytest.raises(UniqueViolation):
            await unit.refunds.add(Refund.request(paid, LATER))


async def test_callback_inbox_remembers_committed_deliveries_only(uow):
    async with uow() as unit:
        assert await unit.callbacks.first_delivery("stripe", "evt_1")  # rolled back
    async with uow() as unit:
        assert await unit.callbacks.first_delivery("stripe", "evt_1")
        assert not await unit.callbacks.first_delivery("stripe", "evt_1")
        assert await unit.callbacks.first_delivery("paypal", "evt_1")
        await unit.commit()
    async with uow() as unit:
        assert not await unit.callbacks.first_delivery("stripe", "evt_1")


async def test_concurrent_first_deliveries_let_exactly_one_through(uow):
    async def deliver() -> bool:
        async with uow() as unit:
            first = await unit.callbacks.first_delivery("sandbox", "evt_9")
            await asyncio.sleep(0)
            await unit.commit()
        return first

    assert sorted(await asyncio.gather(deliver(), deliver())) == [False, True]


@pytest.mark.parametrize(("lock", "expected"), [(True, "ab"), (False, "b")])
async def test_row_lock_prevents_lost_updates(uow, lock, expected):
    order = new_order()
    uow.seed(order)

    async def append(text: str) -> None:
        async with uow() as unit:
            loaded = await unit.orders.get(order.merchant_id, order.id, lock=lock)
            await asyncio.sleep(0.01)
            loaded.description = (loaded.description or "") + text
            await unit.orders.save(loaded)
            await unit.commit()

    await asyncio.gather(append("a"), append("b"))
    assert uow.db.orders[order.id].description == expected


async def test_bus_gets_events_after_the_outermost_commit_only():
    bus = InMemoryEventBus()
    uow = InMemoryUnitOfWorkFactory(bus=bus)
    async with uow() as unit:
        await unit.orders.add(with_event())
    assert bus.published == []
    async with uow() as unit:
        await unit.orders.add(order := with_event())
        await unit.commit()
        assert bus.published == []
    assert [e.aggregate_id for e in bus.published] == [order.id] and bus.published == uow.outbox


async def test_lock_manager_refuses_a_busy_lock():
    locks = InMemoryLockManager()
    async with locks.hold("order:1", timeout_s=1):
        assert locks.held == {"order:1"}
        with pytest.raises(Conflict):
            async with locks.hold("order:1", timeout_s=0.01):
                pass
    assert locks.held == set()


def test_fake_clock_is_set_and_advanced_by_hand():
    clock = FakeClock(NOW)
    assert clock.now() == NOW
    assert clock.advance(90) == NOW + timedelta(seconds=90) == clock.now()
    clock.at = LATER
    assert clock.now() == LATER


async def test_fake_provider_answers_what_was_queued_then_the_default():
    provider = FakeProvider("stripe", default=ProviderResult(Outcome.PENDING, "pi_default"))
    provider.answers = [ProviderResult(Outcome.FAILED, failure_code="card_declined"), TimeoutError("slow")]
    request = PaymentRequest(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), Money(100, "USD"), None)
    assert (await provider.purchase(request)).failure_code == "card_declined"
    with pytest.raises(TimeoutError):
        await provider.get_status(request.attempt_id, None)
    assert (await provider.purchase(request)).provider_reference == "pi_default"
    assert provider.purchases == [request, request] and provider.status_checks == [(request.attempt_id, None)]


async def test_fake_provider_accepts_only_known_callback_bodies():
    provider = FakeProvider()
    event = ProviderEvent("evt_1", CallbackKind.PAYMENT, ProviderResult(Outcome.SUCCEEDED), uuid.uuid4())
    provider.callbacks[b'{"id":"evt_1"}'] = event
    assert await provider.parse_callback({}, b'{"id":"evt_1"}') is event
    with pytest.raises(InvalidCallback):
        await provider.parse_callback({}, b'{"id":"forged"}')


def test_registry_knows_its_providers_only():
    registry = FakeProviderRegistry(FakeProvider("sandbox"), FakeProvider("paypal"))
    assert registry.names() == ["paypal", "sandbox"] and registry.get("paypal").name == "paypal"
    with pytest.raises(UnknownProvider):
        registry.get("stripe")


async def test_card_cache_keeps_cards_until_discarded():
    cards, attempt_id = InMemoryCardDataCache(), uuid.uuid4()
    await cards.put(attempt_id, CardToken("tok_1"))
    assert await cards.get(attempt_id) == CardToken("tok_1")
    await cards.discard(attempt_id)
    await cards.discard(attempt_id)  # twice is fine
    assert await cards.get(attempt_id) is None and cards.cards == {}

"""Payment, refund and callback use cases over in-memory fakes."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from app.domain.errors import Conflict, InvalidStateTransition
from app.domain.model.card import CardDetails
from app.domain.model.order import OrderStatus
from app.domain.model.payment import AttemptStatus
from app.domain.model.refund import RefundStatus
from app.domain.model.provider import CallbackKind, Outcome, ProviderEvent, ProviderResult
from app.domain.services.callbacks import CallbackOutcome
from tests.unit.builders import new_order
from tests.unit.fake_container import fake_container, unit_settings
from tests.unit.fake_providers import (FakeProvider, FakeProviderRegistry, InMemoryCardDataCache,
                                       RecordingVerdictAlarm, reference_for, success_for)
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory

CARD = CardDetails.parse("4242424242424242", 12, 2035, "123", date(2026, 1, 1))


class World:
    def __init__(self, **policy: object) -> None:
        self.uow = InMemoryUnitOfWorkFactory()
        self.clock = FakeClock()
        self.provider = FakeProvider()
        self.cards = InMemoryCardDataCache()
        # Production settings (e.g. no plain-http return URLs), with every adapter a fake.
        self.alarm = RecordingVerdictAlarm()
        container = fake_container(unit_settings("prod", payments=policy), uow=self.uow, clock=self.clock,
                                   providers=FakeProviderRegistry(self.provider), card_cache=self.cards,
                                   alarm=self.alarm)
        self.payments, self.refunds, self.callbacks = container.payments, container.refunds, container.callbacks
        self.orders = container.orders
        self.order = new_order()
        self.uow.seed(self.order)

    async def state(self):
        async with self.uow() as uow:
            order = await uow.orders.get(self.order.merchant_id, self.order.id)
            return order, await uow.payments.for_order(order.id), await uow.refunds.for_order(order.id)

    def events(self, type_: str) -> list:
        return [event for event in self.uow.outbox if event.type == type_]


async def test_request_writes_attempt_and_event_without_calling_the_provider():
    world = World()
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD)
    order, attempts, _ = await world.state()
    assert order.status is OrderStatus.PAYMENT_IN_PROGRESS and attempts[0].status is AttemptStatus.INITIATED
    assert [e.payload["payment_id"] for e in world.events("payment.requested")] == [str(attempt.id)]
    assert world.provider.purchases == []
    assert await world.cards.get(attempt.id) == CARD


async def test_dispatch_applies_an_immediate_verdict_and_forgets_the_card():
    world = World()
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD)
    await world.payments.dispatch(attempt.id)
    await world.payments.dispatch(attempt.id)  # a redelivered message: no second purchase
    order, attempts, _ = await world.state()
    assert order.status is OrderStatus.PAYMENT_DONE and attempts[0].status is AttemptStatus.SUCCESS
    assert [p.attempt_id for p in world.provider.purchases] == [attempt.id]
    assert await world.cards.get(attempt.id) is None


async def test_unknown_answer_leaves_attempt_pending_and_reconciliation_resolves_it():
    world = World(pending_timeout_s=60, give_up_after_s=600)
    world.provider.answers = [ProviderResult(Outcome.UNKNOWN), ProviderResult(Outcome.SUCCEEDED, "ref")]
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD)
    await world.payments.dispatch(attempt.id)
    assert (await world.state())[1][0].status is AttemptStatus.PENDING
    assert await world.payments.reconcile() == {"redispatched": 0, "resolved": 0, "still_pending": 0,
                                                 "timed_out": 0}
    world.clock.advance(61)
    counts = await world.payments.reconcile()
    assert counts["resolved"] == 1
    order, attempts, _ = await world.state()
    assert order.status is OrderStatus.PAYMENT_DONE and attempts[0].provider_reference == "ref"


async def test_reconciliation_gives_up_with_gateway_timeout_and_refunds_a_late_success():
    world = World(pending_timeout_s=60, give_up_after_s=600)
    world.provider.default = ProviderResult(Outcome.UNKNOWN)
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD)
    await world.payments.dispatch(attempt.id)
    world.clock.advance(601)
    assert (await world.payments.reconcile())["timed_out"] == 1
    order, attempts, _ = await world.state()
    assert order.status is OrderStatus.PAYMENT_FAILED and attempts[0].failure_code == "gateway_timeout"
    body = b"late success"
    world.provider.callbacks[body] = ProviderEvent("evt_late", CallbackKind.PAYMENT,
                                                   success_for(attempt), attempt_id=attempt.id)
    assert await world.callbacks.handle("sandbox", {}, body) is CallbackOutcome.ALREADY_FINAL
    _, _, refunds = await world.state()
    assert [(r.payment_id, r.status) for r in refunds] == [(attempt.id, RefundStatus.PENDING)]
    assert len(world.events("refund.requested")) == 1


async def test_initiated_attempt_never_dispatched_is_redispatched():
    world = World(pending_timeout_s=60)
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD)
    world.clock.advance(61)
    assert (await world.payments.reconcile())["redispatched"] == 1
    assert [p.attempt_id for p in world.provider.purchases] == [attempt.id]


async def test_concurrent_requests_make_one_attempt():
    world = World()
    results = await asyncio.gather(
        *(world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD) for _ in range(10)),
        return_exceptions=True)
    attempts = [r for r in results if not isinstance(r, Exception)]
    assert len(attempts) == 1
    assert all(isinstance(r, (InvalidStateTransition, Conflict)) for r in results if isinstance(r, Exception))
    assert len((await world.state())[1]) == 1


async def test_duplicate_callback_applies_once_and_refund_settles():
    world = World()
    world.provider.default = ProviderResult(Outcome.PENDING, "ref")
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD)
    await world.payments.dispatch(attempt.id)
    body = b"succeeded"
    world.provider.callbacks[body] = ProviderEvent("evt_1", CallbackKind.PAYMENT,
                                                   success_for(attempt), attempt_id=attempt.id)
    outcomes = [await world.callbacks.handle("sandbox", {}, body) for _ in range(3)]
    assert outcomes == [CallbackOutcome.APPLIED, CallbackOutcome.DUPLICATE, CallbackOutcome.DUPLICATE]
    assert len(world.events("payment.succeeded")) == 1
    assert (await world.state())[0].status is OrderStatus.PAYMENT_DONE


async def test_refund_dispatch_settles_on_an_immediate_answer():
    world = World()
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD)
    await world.payments.dispatch(attempt.id)
    view = await world.orders.cancel(world.order.merchant_id, world.order.id)
    world.provider.answers = [ProviderResult(Outcome.SUCCEEDED, "rf")]
    assert await world.refunds.dispatch(view.refunds[0].id) is RefundStatus.SUCCESS
    assert await world.refunds.dispatch(view.refunds[0].id) is None  # settled: nothing sent again
    assert len(world.provider.refunds) == 1
    assert world.provider.refunds[0].provider_reference == reference_for(attempt.id)  # the attempt's own capture


async def test_the_provider_declares_whether_a_payment_method_is_needed():
    from app.domain.errors import ValidationFailed

    world = World()
    with pytest.raises(ValidationFailed) as refused:
        await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", None)
    order, attempts, _ = await world.state()
    assert refused.value.code == "payment_method_required" and order.status is OrderStatus.CREATED and attempts == []
    world.provider.needs_payment_method = False  # a redirect provider, whatever its name
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", None)
    assert attempt.status is AttemptStatus.INITIATED and await world.cards.get(attempt.id) is None


async def test_every_event_about_an_order_carries_the_order_webhooks_need():
    """Payment and refund events carry the order (id, merchant_reference, amount, currency,
    status) as the transaction left it: a webhook can be acted on without a GET."""
    world = World()
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD)
    await world.payments.dispatch(attempt.id)
    await world.orders.cancel(world.order.merchant_id, world.order.id, "changed my mind")
    snapshot = {"id": str(world.order.id), "merchant_reference": world.order.merchant_reference,
                "amount": world.order.amount.amount_minor, "currency": world.order.amount.currency}
    [succeeded] = world.events("payment.succeeded")
    assert succeeded.payload["order"] == {**snapshot, "status": "PAYMENT_DONE"}
    [refund] = world.events("refund.requested") or world.events("refund.succeeded")
    assert refund.payload["order"] == {**snapshot, "status": "ORDER_CANCELLED"}
    about_orders = [event for event in world.uow.outbox if "order_id" in event.payload]
    assert about_orders and all(event.payload["order"]["id"] == snapshot["id"] for event in about_orders)

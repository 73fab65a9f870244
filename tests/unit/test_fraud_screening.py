"""Fraud screening in the payment request, and the review queue, over in-memory fakes."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from app.domain.errors import InvalidStateTransition
from app.domain.model.card import CardDetails
from app.domain.model.fraud import AmountLimit, BlockList, CardFailures, FraudAction, FraudRule, Velocity
from app.domain.model.order import OrderStatus
from app.domain.model.payment import AttemptStatus
from app.domain.model.provider import Outcome, ProviderResult
from tests.unit.builders import new_order
from tests.unit.fake_container import fake_container, unit_settings
from tests.unit.fake_fraud import InMemoryFraudRuleStore, RecordingFraudMetrics
from tests.unit.fake_providers import FakeProvider, FakeProviderRegistry, InMemoryCardDataCache
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory

CARD = CardDetails.parse("4242424242424242", 12, 2035, "123", date(2026, 1, 1))
B, R = FraudAction.BLOCK, FraudAction.REVIEW


class World:
    def __init__(self, *rules: FraudRule, screening: bool = True) -> None:
        self.uow, self.clock = InMemoryUnitOfWorkFactory(), FakeClock()
        self.provider, self.cards = FakeProvider(), InMemoryCardDataCache()
        self.rules, self.metrics = InMemoryFraudRuleStore(), RecordingFraudMetrics()
        settings = unit_settings(payments={"max_attempts": 10},
                                 fraud={"review_deadline_s": 600.0, "enabled": screening})
        container = fake_container(settings, uow=self.uow, clock=self.clock, card_cache=self.cards,
                                   providers=FakeProviderRegistry(self.provider), fraud_rules=self.rules,
                                   fraud_metrics=self.metrics)
        self.payments, self.reviews = container.payments, container.reviews
        self.order = new_order()
        self.uow.seed(self.order)
        self.rules.sets[self.order.merchant_id] = list(rules)

    async def pay(self, order=None, ip: str | None = "198.51.100.4"):
        order = order or self.order
        return await self.payments.request(order.merchant_id, order.id, "sandbox", CARD, client_ip=ip)

    async def order_status(self, order=None) -> OrderStatus:
        order = order or self.order
        async with self.uow() as uow:
            return (await uow.orders.get(order.merchant_id, order.id)).status

    def events(self, type_: str) -> list:
        return [event for event in self.uow.outbox if event.type == type_]

    async def dispatch_requested(self) -> None:
        for event in self.events("payment.requested"):
            await self.payments.dispatch(event.aggregate_id)


async def test_block_fails_the_attempt_and_the_order_without_a_provider_call():
    world = World(FraudRule("big", 1, B, AmountLimit("USD", 1000)))
    attempt = await world.pay()
    assert attempt.status is AttemptStatus.FAILED and attempt.failure_code == "fraud_blocked"
    assert attempt.fraud.action is B and attempt.fraud.rule_id == "big" and attempt.fraud.score == 100
    assert await world.order_status() is OrderStatus.PAYMENT_FAILED
    assert world.events("payment.requested") == [] and [e.payload["failure_code"] for e in
                                                        world.events("payment.failed")] == ["fraud_blocked"]
    await world.dispatch_requested()
    assert world.provider.purchases == [] and await world.cards.get(attempt.id) is None
    assert [d.action for d in world.metrics.decisions] == [B]


async def test_review_holds_the_attempt_and_approval_dispatches_it():
    world = World(FraudRule("big", 1, R, AmountLimit("USD", 1000)))
    attempt = await world.pay()
    assert attempt.status is AttemptStatus.REQUIRES_REVIEW and attempt.card_fingerprint
    assert await world.order_status() is OrderStatus.PAYMENT_IN_PROGRESS
    assert [e.payload["rule_id"] for e in world.events("payment.review_required")] == ["big"]
    assert [a.id for a in await world.reviews.open_reviews()] == [attempt.id]
    await world.dispatch_requested()
    assert world.provider.purchases == []
    await world.reviews.approve(attempt.id)
    await world.dispatch_requested()
    assert [p.attempt_id for p in world.provider.purchases] == [attempt.id]
    assert await world.order_status() is OrderStatus.PAYMENT_DONE


async def test_reject_fails_with_fraud_rejected():
    world = World(FraudRule("big", 1, R, AmountLimit("USD", 1000)))
    attempt = await world.reviews.reject((await world.pay()).id)
    assert attempt.status is AttemptStatus.FAILED and attempt.failure_code == "fraud_rejected"
    assert await world.order_status() is OrderStatus.PAYMENT_FAILED
    with pytest.raises(InvalidStateTransition):
        await world.reviews.approve(attempt.id)


@pytest.mark.parametrize("second", ["approve", "reject"])
async def test_concurrent_decisions_dispatch_at_most_once(second):
    world = World(FraudRule("big", 1, R, AmountLimit("USD", 1000)))
    attempt = await world.pay()
    results = await asyncio.gather(world.reviews.approve(attempt.id), getattr(world.reviews, second)(attempt.id),
                                   return_exceptions=True)
    assert sum(isinstance(result, InvalidStateTransition) for result in results) == 1
    await world.dispatch_requested()
    assert len(world.provider.purchases) <= 1 and len(world.events("payment.requested")) <= 1


async def test_the_reconciler_rejects_reviews_past_their_deadline():
    world = World(FraudRule("big", 1, R, AmountLimit("USD", 1000)))
    attempt = await world.pay()
    world.clock.advance(300)
    assert await world.reviews.reject_overdue() == 0
    world.clock.advance(301)
    assert await world.reviews.reject_overdue() == 1
    assert (await world.payments.get(attempt.merchant_id, attempt.id)).failure_code == "fraud_rejected"


async def test_velocity_per_ip_counts_every_attempt():
    world = World(FraudRule("ip-burst", 1, B, Velocity("ip", 2, 60)))
    actions = []
    for _ in range(3):
        order = new_order(world.order.merchant_id)
        world.uow.seed(order)
        actions.append((await world.pay(order)).status)
    assert actions == [AttemptStatus.INITIATED, AttemptStatus.INITIATED, AttemptStatus.FAILED]
    other = new_order(world.order.merchant_id)
    world.uow.seed(other)
    assert (await world.pay(other, ip="198.51.100.5")).status is AttemptStatus.INITIATED


async def test_repeated_failures_per_card_then_block_lists_by_fingerprint():
    world = World(FraudRule("failing", 1, B, CardFailures(2, 3600)))
    world.provider.default = ProviderResult(Outcome.FAILED, failure_code="card_declined")
    statuses = []
    for _ in range(3):
        order = new_order(world.order.merchant_id)
        world.uow.seed(order)
        attempt = await world.pay(order)
        await world.payments.dispatch(attempt.id)
        statuses.append((await world.payments.get(attempt.merchant_id, attempt.id)).failure_code)
    assert statuses == ["card_declined", "card_declined", "fraud_blocked"]
    world.rules.sets[world.order.merchant_id] = [
        FraudRule("stolen", 1, B, BlockList("card_fingerprint", (attempt.card_fingerprint,)))]
    assert (await world.pay()).failure_code == "fraud_blocked"


async def test_screening_switched_off_records_no_verdict():
    world = World(FraudRule("big", 1, B, AmountLimit("USD", 1)), screening=False)
    attempt = await world.pay()
    assert attempt.status is AttemptStatus.INITIATED and attempt.fraud is None

"""Mismatching provider verdicts through the use cases, over in-memory fakes: never
applied, recorded, announced, and the money they report refunded once."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

from app.domain.model.order import OrderStatus
from app.domain.model.payment import AttemptStatus
from app.domain.model.refund import RefundPurpose, RefundStatus
from app.domain.model.provider import CallbackKind, Outcome, ProviderEvent, ProviderResult
from app.domain.services.callbacks import CallbackOutcome
from app.domain.services.settlement import Applied
from tests.unit.fake_providers import success_for
from tests.unit.test_payment_service import CARD, World


async def pending_attempt(world: World):
    world.provider.default = ProviderResult(Outcome.PENDING, "sbx_pay_real")
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD)
    await world.payments.dispatch(attempt.id)
    return attempt


def callback(world: World, body: bytes, result: ProviderResult, attempt_id: uuid.UUID, event_id: str = "") -> None:
    world.provider.callbacks[body] = ProviderEvent(event_id or body.decode(), CallbackKind.PAYMENT, result,
                                                   attempt_id=attempt_id)


async def mismatches(world: World):
    async with world.uow() as uow:
        return await uow.mismatches.recent(100)


async def all_refunds(world: World):
    return list(world.uow.db.refunds.values())


async def test_a_callback_for_1_jpy_does_not_pay_a_25_usd_attempt():
    world = World()
    attempt = await pending_attempt(world)
    wrong = dataclasses.replace(success_for(attempt, "sbx_pay_real"), reported=dataclasses.replace(
        success_for(attempt).reported, amount_minor=1, currency="JPY"))
    callback(world, b"jpy", wrong, attempt.id)
    assert await world.callbacks.handle("sandbox", {}, b"jpy") is CallbackOutcome.MISMATCH
    order, [stored], _ = await world.state()
    assert order.status is OrderStatus.PAYMENT_IN_PROGRESS and stored.status is AttemptStatus.PENDING
    [record] = await mismatches(world)
    assert record.reasons == ("amount", "currency") and record.attempt_id == attempt.id
    assert [m.id for m in world.alarm.raised] == [record.id]
    [event] = world.events("payment.verdict_mismatch")
    assert event.payload["reasons"] == ["amount", "currency"] and event.merchant_id == uuid.UUID(int=0)
    assert world.events("payment.succeeded") == []


async def test_another_merchants_order_pointing_at_this_attempt_is_not_applied_and_its_capture_refunded():
    world = World()
    attempt = await pending_attempt(world)
    genuine = success_for(attempt, "sbx_pay_theirs")
    theirs = dataclasses.replace(genuine, reported=dataclasses.replace(
        genuine.reported, order_id=uuid.uuid4(), merchant_id=uuid.uuid4()))
    callback(world, b"theirs", theirs, attempt.id)
    assert await world.callbacks.handle("sandbox", {}, b"theirs") is CallbackOutcome.MISMATCH
    assert (await world.state())[0].status is OrderStatus.PAYMENT_IN_PROGRESS
    [refund] = await all_refunds(world)
    assert (refund.purpose, refund.target_reference, refund.amount) == (
        RefundPurpose.UNREQUESTED_CAPTURE, "sbx_pay_theirs", attempt.amount)
    assert (await world.state())[2] == []  # not the order's money: the order's refunds stay empty


async def test_a_one_cent_capture_tagged_with_this_attempt_is_refunded_and_cancel_refunds_the_real_capture():
    world = World()
    attempt = await pending_attempt(world)
    genuine = success_for(attempt, "sbx_pay_real")
    fake = ProviderResult(Outcome.SUCCEEDED, "sbx_pay_fake", reported=dataclasses.replace(
        genuine.reported, amount_minor=1))
    callback(world, b"cent", fake, attempt.id)
    callback(world, b"real", genuine, attempt.id)
    assert await world.callbacks.handle("sandbox", {}, b"cent") is CallbackOutcome.MISMATCH
    assert await world.callbacks.handle("sandbox", {}, b"real") is CallbackOutcome.APPLIED
    assert (await world.state())[0].status is OrderStatus.PAYMENT_DONE
    view = await world.orders.cancel(world.order.merchant_id, world.order.id)
    for refund in await all_refunds(world):
        await world.refunds.dispatch(refund.id)
    targets = sorted((r.provider_reference, r.amount.amount_minor) for r in world.provider.refunds)
    assert targets == [("sbx_pay_fake", 1), ("sbx_pay_real", 2500)]
    assert view.refunds[0].purpose is RefundPurpose.CANCELLATION


async def test_a_verdict_from_another_provider_is_refused():
    world = World()
    attempt = await pending_attempt(world)
    applied = await world.payments.settle(attempt.id, success_for(attempt, "sbx_pay_real"),
                                          origin=_origin("stripe"))
    assert applied is Applied.MISMATCH and (await world.state())[0].status is OrderStatus.PAYMENT_IN_PROGRESS


def _origin(provider: str):
    from app.domain.model.verdict import VerdictOrigin, VerdictSource
    return VerdictOrigin(provider, VerdictSource.CALLBACK, "evt_x")


async def test_an_unknown_attempt_is_recorded_but_its_money_left_to_operators():
    world = World()
    stranger = dataclasses.replace(success_for(await pending_attempt(world), "sbx_pay_x"))
    callback(world, b"unknown", stranger, uuid.uuid4())
    assert await world.callbacks.handle("sandbox", {}, b"unknown") is CallbackOutcome.UNKNOWN_TARGET
    [record] = await mismatches(world)
    assert record.reasons == ("unknown_attempt",) and record.refund_id is None
    assert await all_refunds(world) == []


async def test_a_mismatching_status_answer_is_not_applied_during_reconciliation():
    world = World(pending_timeout_s=60)
    attempt = await pending_attempt(world)
    world.provider.answers = [ProviderResult(Outcome.SUCCEEDED, "sbx_pay_other", reported=dataclasses.replace(
        success_for(attempt).reported, amount_minor=1))]
    world.clock.advance(61)
    await world.payments.reconcile()
    assert (await world.state())[1][0].status is AttemptStatus.PENDING
    assert [m.source for m in await mismatches(world)] == ["status"]


async def test_concurrent_duplicate_mismatching_callbacks_refund_the_capture_exactly_once():
    world = World()
    attempt = await pending_attempt(world)
    fake = ProviderResult(Outcome.SUCCEEDED, "sbx_pay_fake", reported=dataclasses.replace(
        success_for(attempt).reported, amount_minor=1))
    bodies = [f"dup-{i}".encode() for i in range(20)]
    for i, body in enumerate(bodies):  # same capture, delivered under 10 event ids, each twice
        callback(world, body, fake, attempt.id, event_id=f"evt_{i % 10}")
    outcomes = await asyncio.gather(*(world.callbacks.handle("sandbox", {}, body) for body in bodies))
    assert sorted(set(outcomes)) == [CallbackOutcome.DUPLICATE, CallbackOutcome.MISMATCH]
    refunds = await all_refunds(world)
    assert [(r.target_reference, r.status) for r in refunds] == [("sbx_pay_fake", RefundStatus.PENDING)]
    assert len(world.events("refund.requested")) == 1
    assert len(await mismatches(world)) == 10  # one per distinct verdict, all for the record

"""Failed refunds are retried on the schedule kept on the refund row, then handed to operators."""

from __future__ import annotations

from datetime import timedelta

from app.domain.model.refund import RefundStatus
from app.domain.model.provider import Outcome, ProviderResult
from tests.unit.test_payment_service import CARD, World

DELAYS_S = (10.0, 60.0)  # FXP_PAYMENTS__REFUND_RETRY_SCHEDULE: two retries, then FAILED


def refund_world() -> World:
    return World(refund_retry_schedule=",".join(str(delay) for delay in DELAYS_S))


async def cancelled_paid_order(world: World):
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD)
    await world.payments.dispatch(attempt.id)
    view = await world.orders.cancel(world.order.merchant_id, world.order.id)
    return view.refunds[0]


async def stored(world: World, refund_id):
    async with world.uow() as uow:
        return await uow.refunds.get(refund_id)


async def test_a_failed_refund_is_retried_when_due_until_it_succeeds():
    world = refund_world()
    refund = await cancelled_paid_order(world)
    world.provider.answers = [ProviderResult(Outcome.FAILED, None, "processing_error", "try later")]
    assert await world.refunds.dispatch(refund.id) is RefundStatus.PENDING
    waiting = await stored(world, refund.id)
    assert (waiting.attempts, waiting.last_error) == (1, "processing_error: try later")
    assert waiting.next_attempt_at == world.clock.now() + timedelta(seconds=10)
    assert await world.refunds.retry_due() == 0  # not yet due
    world.clock.advance(10)
    assert await world.refunds.retry_due() == 1
    assert (await stored(world, refund.id)).status is RefundStatus.SUCCESS
    assert len(world.provider.refunds) == 2 and {r.refund_id for r in world.provider.refunds} == {refund.id}


async def test_retries_are_bounded_then_the_refund_is_failed_for_operators():
    world = refund_world()
    refund = await cancelled_paid_order(world)
    world.provider.default = ProviderResult(Outcome.UNKNOWN, failure_message="gateway down")
    await world.refunds.dispatch(refund.id)
    for delay in DELAYS_S:
        world.clock.advance(delay)
        assert await world.refunds.retry_due() == 1
    failed = await stored(world, refund.id)
    assert failed.status is RefundStatus.FAILED and failed.attempts == 3 and "gateway down" in failed.failure_message
    assert [r.id for r in await world.refunds.by_status(RefundStatus.FAILED)] == [refund.id]
    assert len(world.events("refund.failed")) == 1
    world.clock.advance(10_000)
    assert await world.refunds.retry_due() == 0  # nothing more without an operator
    world.provider.default = ProviderResult(Outcome.SUCCEEDED, "rf_1")
    await world.refunds.reopen(refund.id)
    assert await world.refunds.retry_due() == 1
    assert (await stored(world, refund.id)).status is RefundStatus.SUCCESS


async def test_a_lost_dispatch_is_picked_up_by_the_retry_job():
    world = refund_world()
    refund = await cancelled_paid_order(world)  # refund.requested never handled: the process died
    world.clock.advance(61)
    assert await world.refunds.retry_due() == 1
    assert (await stored(world, refund.id)).status is RefundStatus.SUCCESS


async def test_a_refund_callback_from_another_provider_or_refund_is_not_applied():
    world = refund_world()
    refund = await cancelled_paid_order(world)
    world.provider.answers = [ProviderResult(Outcome.PENDING, "rf_real")]
    await world.refunds.dispatch(refund.id)
    other = ProviderResult(Outcome.SUCCEEDED, "rf_other")
    assert await world.refunds.settle(refund.id, other, provider="sandbox") is None
    assert await world.refunds.settle(refund.id, ProviderResult(Outcome.SUCCEEDED, "rf_real"), provider="stripe") is None
    assert (await stored(world, refund.id)).status is RefundStatus.PENDING
    assert await world.refunds.settle(refund.id, ProviderResult(Outcome.SUCCEEDED, "rf_real"),
                                      provider="sandbox") is RefundStatus.SUCCESS

"""Reserve at payment start, release on failure / expiry / cancel, allocate on success,
fulfil with a delivery estimate, refund when the stock is gone. In-memory fakes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest

from app.domain.errors import InsufficientStock
from app.domain.model.catalog import StockLevel
from app.domain.model.inventory import ReservationStatus as R
from app.domain.model.order import OrderStatus as S
from app.domain.model.refund import RefundStatus
from app.domain.model.provider import Outcome, ProviderResult
from app.domain.services.fulfillment import Allocation
from tests.unit.catalog_world import CARD, MERCHANT, Shop

DECLINED = ProviderResult(Outcome.FAILED, failure_code="card_declined")


async def test_payment_start_reserves_and_success_allocates_and_starts_fulfillment():
    shop = Shop(shipping_business_days=3)
    await shop.product("MUG", 5, lead_time_days=2)
    await shop.product("TEE", 5, lead_time_days=1)
    order = await shop.order(("MUG", 1), ("TEE", 2), ("MUG", 1))
    attempt = await shop.payments.request(MERCHANT, order.id, "sandbox", CARD)
    assert await shop.level("MUG") == StockLevel(5, reserved=2) and await shop.level("TEE") == StockLevel(5, 2)
    await shop.payments.dispatch(attempt.id)
    assert await shop.allocate_for(attempt.id) is Allocation.FULFILLMENT_STARTED
    paid = await shop.reload(order)
    # Thursday 15th + 2 days lead time = Saturday 17th; 3 business days later: Wednesday 21st.
    assert paid.status is S.FULFILLMENT_STARTED and paid.estimated_delivery == date(2026, 1, 21)
    assert await shop.level("MUG") == StockLevel(5, allocated=2) and await shop.level("TEE") == StockLevel(5, 0, 2)
    [started] = shop.events("order.fulfillment_started")
    assert started.payload["estimated_delivery"] == "2026-01-21"


async def test_insufficient_stock_refuses_the_payment_before_the_provider_and_writes_nothing():
    shop = Shop()
    await shop.product("MUG", 1)
    order = await shop.order(("MUG", 1), ("MUG", 1))  # two lines, one sku: 2 units wanted, 1 left
    commits = shop.uow.commits
    with pytest.raises(InsufficientStock) as raised:
        await shop.payments.request(MERCHANT, order.id, "sandbox", CARD)
    assert raised.value.details["skus"] == ["MUG"]
    assert shop.uow.commits == commits and shop.provider.purchases == [] and shop.uow.db.payments == {}
    assert (await shop.reload(order)).status is S.CREATED and await shop.level("MUG") == StockLevel(1)


async def test_a_failed_attempt_releases_and_the_retry_reserves_again():
    shop = Shop()
    await shop.product("MUG", 1)
    order = await shop.order(("MUG", 1))
    shop.provider.answers = [DECLINED]
    first = await shop.payments.request(MERCHANT, order.id, "sandbox", CARD)
    await shop.payments.dispatch(first.id)
    assert await shop.level("MUG") == StockLevel(1)
    second = await shop.payments.retry(MERCHANT, first.id, CARD)
    assert await shop.level("MUG") == StockLevel(1, reserved=1)
    await shop.payments.dispatch(second.id)
    assert await shop.allocate_for(second.id) is Allocation.FULFILLMENT_STARTED
    assert [r.status for r in await shop.reservations(order)] == [R.RELEASED, R.ALLOCATED]


async def test_a_redelivered_event_never_allocates_twice_even_concurrently():
    shop = Shop()
    await shop.product("MUG", 3)
    order = await shop.order(("MUG", 1))
    attempt = await shop.payments.request(MERCHANT, order.id, "sandbox", CARD)
    await shop.payments.dispatch(attempt.id)
    outcomes = await asyncio.gather(*(shop.allocate_for(attempt.id) for _ in range(10)))
    assert sorted(outcomes) == sorted([Allocation.FULFILLMENT_STARTED] + [Allocation.DUPLICATE] * 9)
    assert await shop.level("MUG") == StockLevel(3, allocated=1)
    assert len(shop.events("order.fulfillment_started")) == 1


async def test_expired_reservation_whose_stock_was_sold_is_refunded_and_the_merchant_told():
    shop = Shop(reservation_ttl_s=60)
    await shop.product("MUG", 1)
    slow, fast = await shop.order(("MUG", 1)), await shop.order(("MUG", 1))
    shop.provider.answers = [ProviderResult(Outcome.PENDING, "ref-slow")]
    slow_attempt = await shop.payments.request(MERCHANT, slow.id, "sandbox", CARD)
    await shop.payments.dispatch(slow_attempt.id)
    shop.clock.advance(61)
    assert await shop.fulfillment.release_expired() == 1
    assert await shop.pay(fast) is Allocation.FULFILLMENT_STARTED  # takes the last unit
    await shop.payments.settle(slow_attempt.id, ProviderResult(Outcome.SUCCEEDED, "ref-slow"))
    assert await shop.allocate_for(slow_attempt.id) is Allocation.REFUNDED
    refunded = await shop.reload(slow)
    assert refunded.status is S.ORDER_CANCELLED and refunded.status_reason == "insufficient_stock"
    [refund] = [r for r in shop.uow.db.refunds.values() if r.order_id == slow.id]
    assert refund.status is RefundStatus.PENDING and refund.payment_id == slow_attempt.id
    [failed] = shop.events("order.allocation_failed")
    assert failed.payload["skus"] == ["MUG"] and failed.payload["reason"] == "insufficient_stock"
    assert await shop.level("MUG") == StockLevel(1, allocated=1)


async def test_expired_reservation_with_stock_still_free_is_allocated_afresh():
    shop = Shop(reservation_ttl_s=60)
    await shop.product("MUG", 2)
    order = await shop.order(("MUG", 2))
    attempt = await shop.payments.request(MERCHANT, order.id, "sandbox", CARD)
    shop.clock.advance(61)
    await shop.fulfillment.release_expired()
    assert await shop.level("MUG") == StockLevel(2)
    await shop.payments.dispatch(attempt.id)
    assert await shop.allocate_for(attempt.id) is Allocation.FULFILLMENT_STARTED
    assert await shop.level("MUG") == StockLevel(2, allocated=2)


async def test_cancelling_a_fulfilled_order_refunds_it_and_returns_the_stock():
    shop = Shop()
    await shop.product("MUG", 2)
    order = await shop.order(("MUG", 2))
    assert await shop.pay(order) is Allocation.FULFILLMENT_STARTED
    view = await shop.orders.cancel(MERCHANT, order.id, "changed my mind")
    assert view.order.status is S.ORDER_CANCELLED and view.order.status_reason == "changed my mind"
    assert [r.status for r in view.refunds] == [RefundStatus.PENDING]
    assert await shop.level("MUG") == StockLevel(2) and [r.status for r in await shop.reservations(order)] == [
        R.RETURNED]


async def test_cancel_before_allocation_releases_and_the_late_event_does_nothing():
    shop = Shop()
    await shop.product("MUG", 1)
    order = await shop.order(("MUG", 1))
    attempt = await shop.payments.request(MERCHANT, order.id, "sandbox", CARD)
    await shop.payments.dispatch(attempt.id)
    await shop.orders.cancel(MERCHANT, order.id)
    assert await shop.allocate_for(attempt.id) is Allocation.NOT_APPLICABLE
    assert await shop.level("MUG") == StockLevel(1)


async def test_orders_of_free_items_stay_paid():
    shop = Shop()
    from app.domain.model.order import LineItem
    from app.domain.services.orders import NewOrder
    from tests.unit.builders import CUSTOMER

    order = await shop.orders.create(MERCHANT, NewOrder(None, "USD", [LineItem("Lamp", 1, 900)], CUSTOMER))
    assert await shop.pay(order) is Allocation.NOT_APPLICABLE
    assert (await shop.reload(order)).status is S.PAYMENT_DONE


async def test_concurrent_payment_starts_never_reserve_more_than_is_on_hand():
    shop = Shop()
    await shop.product("MUG", 5)
    orders = [await shop.order(("MUG", 1)) for _ in range(20)]
    results = await asyncio.gather(*(shop.payments.request(MERCHANT, o.id, "sandbox", CARD) for o in orders),
                                   return_exceptions=True)
    assert sum(not isinstance(r, Exception) for r in results) == 5
    assert all(isinstance(r, InsufficientStock) for r in results if isinstance(r, Exception))
    assert await shop.level("MUG") == StockLevel(5, reserved=5)


async def test_an_unknown_event_order_is_not_found():
    shop = Shop()
    from app.domain.errors import NotFound

    with pytest.raises(NotFound):
        await shop.fulfillment.allocate(uuid.uuid4(), MERCHANT, uuid.uuid4(), uuid.uuid4())

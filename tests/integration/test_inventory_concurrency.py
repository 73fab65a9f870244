"""Never oversell, against real PostgreSQL: 100 shoppers for 10 units, lines sharing a
sku, stock adjustments racing allocations. The use cases come from build_container with
the in-process bus (payment.succeeded -> allocate -> fulfil or refund); only the payment
provider is an in-memory fake, and merchant webhooks are left out of the routes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import msgspec
import pytest

from app.adapters.queue.inline_bus import InProcessEventBus
from app.bootstrap import build_container
from app.domain.errors import InsufficientStock
from app.domain.model.card import CardDetails
from app.domain.model.pricing import RequestedItem
from app.domain.routing import EVENT_ROUTES, NOTIFY_MERCHANT
from app.domain.services.catalog import NewProduct
from app.domain.services.orders import NewOrder
from tests.unit.builders import CUSTOMER
from tests.unit.fake_providers import FakeProvider, FakeProviderRegistry, InMemoryCardDataCache
from tests.unit.fakes import InMemoryLockManager

CARD = CardDetails.parse("4242424242424242", 12, 2035, "123", date(2026, 1, 1))
IN_BETWEEN = {"PAYMENT_IN_PROGRESS", "PAYMENT_DONE"}


class Shop:
    def __init__(self, container, merchant_id: uuid.UUID, reservation_ttl_s: float = 900.0,
                 hold_payments: bool = False) -> None:
        # hold_payments: the test sends attempts to the provider when it chooses.
        skipped = {NOTIFY_MERCHANT} | ({"dispatch_payment"} if hold_payments else set())
        routes = {event_type: kept for event_type, routes in EVENT_ROUTES.items()
                  if (kept := tuple(r for r in routes if r.consumer not in skipped))}
        settings = container.settings
        settings = msgspec.structs.replace(settings, inventory=msgspec.structs.replace(
            settings.inventory, reservation_ttl_s=reservation_ttl_s))
        self.bus = InProcessEventBus(routes)
        shop = build_container(settings, engine=container.engine, redis=container.redis, bus=self.bus,
                               providers=FakeProviderRegistry(FakeProvider()), locks=InMemoryLockManager(),
                               card_cache=InMemoryCardDataCache())
        self.catalog, self.orders, self.payments = shop.catalog, shop.orders, shop.payments
        self.fulfillment, self.merchant_id, self.engine = shop.fulfillment, merchant_id, container.engine

    async def order(self, sku: str, *quantities: int):
        items = [RequestedItem(q, sku) for q in quantities]
        return await self.orders.create(self.merchant_id, NewOrder(None, "USD", items, CUSTOMER))

    async def request(self, order_id: uuid.UUID):
        return await self.payments.request(self.merchant_id, order_id, "sandbox", CARD)

    async def fetch(self, sql: str, *args):
        async with self.engine.transaction() as tx:
            return await tx.connection.fetch(sql, *args)

    async def level(self, product_id: uuid.UUID) -> tuple[int, int, int]:
        [row] = await self.fetch("SELECT on_hand, reserved, allocated FROM products WHERE id = $1", product_id)
        return row["on_hand"], row["reserved"], row["allocated"]

    async def statuses(self, order_ids: list[uuid.UUID]) -> dict[str, int]:
        rows = await self.fetch("SELECT status, count(*) AS n FROM orders WHERE id = ANY($1::uuid[]) GROUP BY 1",
                                order_ids)
        return {row["status"]: row["n"] for row in rows}


@pytest.fixture
async def shop(container, merchant):
    return Shop(container, uuid.UUID(merchant.id))


async def test_hundred_shoppers_ten_units_exactly_ten_fulfilled(shop):
    product = await shop.catalog.create(shop.merchant_id, NewProduct("HOT", "Hot item", 500, "USD", 1, 10))
    orders = [await shop.order("HOT", 1) for _ in range(100)]
    started = await asyncio.gather(*(shop.request(o.id) for o in orders), return_exceptions=True)
    attempts = [a for a in started if not isinstance(a, BaseException)]
    refused = [a for a in started if isinstance(a, BaseException)]
    assert len(attempts) == 10 and all(isinstance(e, InsufficientStock) for e in refused)
    await asyncio.gather(*(shop.payments.dispatch(a.id) for a in attempts))
    await shop.bus.drain()
    ids = [o.id for o in orders]
    assert await shop.statuses(ids) == {"FULFILLMENT_STARTED": 10, "CREATED": 90}
    assert await shop.level(product.id) == (10, 0, 10)
    # Refused before payment: nothing was written for the 90 (no attempt, no reservation).
    [row] = await shop.fetch("SELECT count(DISTINCT order_id) AS n FROM payment_attempts WHERE order_id = ANY($1)",
                             ids)
    assert row["n"] == 10


async def test_allocation_race_after_expiry_allocates_ten_and_refunds_the_rest(container, merchant):
    """Reservations expired while payments were out; stock was then counted down to 10:
    100 successful payments race for 10 units. Exactly 10 are fulfilled, 90 refunded."""
    shop = Shop(container, uuid.UUID(merchant.id), reservation_ttl_s=0.0, hold_payments=True)
    product = await shop.catalog.create(shop.merchant_id, NewProduct("RACE", "Race", 500, "USD", 0, 100))
    orders = [await shop.order("RACE", 1) for _ in range(100)]
    attempts = await asyncio.gather(*(shop.request(o.id) for o in orders))
    assert await shop.fulfillment.release_expired() == 100
    await shop.catalog.adjust_stock(shop.merchant_id, product.id, -90, "recount")
    await asyncio.gather(*(shop.payments.dispatch(a.id) for a in attempts))
    await shop.bus.drain()
    ids = [o.id for o in orders]
    assert await shop.statuses(ids) == {"FULFILLMENT_STARTED": 10, "ORDER_CANCELLED": 90}
    assert await shop.level(product.id) == (10, 0, 10)
    rows = await shop.fetch("SELECT status, count(*) AS n FROM refunds WHERE order_id = ANY($1) GROUP BY 1", ids)
    assert {r["status"]: r["n"] for r in rows} == {"SUCCESS": 90}
    reasons = await shop.fetch("SELECT DISTINCT status_reason FROM orders WHERE id = ANY($1) AND status = $2",
                               ids, "ORDER_CANCELLED")
    assert [r["status_reason"] for r in reasons] == ["insufficient_stock"]


async def test_two_lines_on_one_sku_with_one_unit_left_are_not_allocated(shop):
    product = await shop.catalog.create(shop.merchant_id, NewProduct("LAST", "Last", 500, "USD", 0, 1))
    order = await shop.order("LAST", 1, 1)
    with pytest.raises(InsufficientStock):
        await shop.request(order.id)
    assert await shop.level(product.id) == (1, 0, 0)
    assert await shop.statuses([order.id]) == {"CREATED": 1}


async def test_stock_adjustments_racing_allocations_keep_the_constraint(container, merchant):
    shop = Shop(container, uuid.UUID(merchant.id), reservation_ttl_s=0.0, hold_payments=True)
    product = await shop.catalog.create(shop.merchant_id, NewProduct("TUG", "Tug", 500, "USD", 0, 40))
    orders = [await shop.order("TUG", 1) for _ in range(40)]
    attempts = await asyncio.gather(*(shop.request(o.id) for o in orders))
    await shop.fulfillment.release_expired()  # payments now compete with the recounts for free stock

    async def recount() -> bool:
        try:
            await shop.catalog.adjust_stock(shop.merchant_id, product.id, -1, "damaged")
            return True
        except InsufficientStock:
            return False

    results = await asyncio.gather(*(shop.payments.dispatch(a.id) for a in attempts),
                                   *(recount() for _ in range(30)))
    await shop.bus.drain()
    removed = sum(1 for r in results[len(attempts):] if r is True)
    on_hand, reserved, allocated = await shop.level(product.id)
    assert on_hand == 40 - removed and reserved == 0 and 0 <= allocated <= on_hand
    statuses = await shop.statuses([o.id for o in orders])
    assert statuses.get("FULFILLMENT_STARTED", 0) == allocated and not IN_BETWEEN & statuses.keys()
    assert statuses.get("FULFILLMENT_STARTED", 0) + statuses.get("ORDER_CANCELLED", 0) == 40

"""POST /payments' use case against real PostgreSQL, with no Redis lock around it: the
order's row lock (FOR UPDATE, bounded by the database's lock_timeout) and the partial
unique indexes of payment_attempts are what keep one attempt in flight per order."""

from __future__ import annotations

import asyncio
import contextvars
import uuid

import pytest

from app.domain.errors import Conflict, InvalidStateTransition
from app.domain.services.orders import NewOrder
from tests.integration.test_payment_statements import Shop
from tests.integration.test_inventory_concurrency import CARD
from tests.unit.builders import CUSTOMER
from tests.unit.fake_providers import FakeProvider


@pytest.fixture
async def shop(container, merchant) -> Shop:
    return Shop(container, uuid.UUID(merchant.id), FakeProvider())


async def _attempts_and_events(shop: Shop, order_id: uuid.UUID) -> tuple[int, int]:
    async with shop.engine.transaction() as tx:
        attempts = await tx.connection.fetchval("SELECT count(*) FROM payment_attempts WHERE order_id = $1", order_id)
        requested = await tx.connection.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type = 'payment.requested' AND payload->>'order_id' = $1",
            str(order_id))
    return attempts, requested


async def test_twenty_concurrent_requests_for_one_order_make_one_attempt(shop):
    order = await shop.container.orders.create(shop.merchant_id, NewOrder(5000, "USD", [], CUSTOMER))
    results = await asyncio.gather(
        *(shop.container.payments.request(shop.merchant_id, order.id, "sandbox", CARD) for _ in range(20)),
        return_exceptions=True)
    started = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(started) == 1, refused
    assert all(isinstance(r, (InvalidStateTransition, Conflict)) for r in refused), refused
    assert await _attempts_and_events(shop, order.id) == (1, 1)


async def test_an_order_locked_past_the_lock_timeout_answers_order_busy(shop):
    order = await shop.container.orders.create(shop.merchant_id, NewOrder(5000, "USD", [], CUSTOMER))
    async with shop.engine.transaction() as holder:  # another transaction holds the order's row lock
        await holder.connection.execute("SELECT 1 FROM orders WHERE id = $1 FOR UPDATE", order.id)
        request = shop.container.payments.request(shop.merchant_id, order.id, "sandbox", CARD)
        # (a context of its own: not the holder's transaction, which Piccolo keeps in a context variable)
        with pytest.raises(Conflict) as busy:
            await asyncio.get_running_loop().create_task(request, context=contextvars.Context())
    assert busy.value.code == "order_busy"
    assert await _attempts_and_events(shop, order.id) == (0, 0)
    attempt = await shop.container.payments.request(shop.merchant_id, order.id, "sandbox", CARD)  # free again
    assert await _attempts_and_events(shop, order.id) == (1, 1)
    assert attempt.order_id == order.id

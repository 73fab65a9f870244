"""payment.succeeded through the outbox relay to the allocate_stock actor, on the stub
broker against real PostgreSQL; a redelivered message (even several at once) allocates
nothing twice."""

from __future__ import annotations

import uuid
from datetime import date

from app.domain.model.card import CardDetails
from app.domain.model.pricing import RequestedItem
from app.domain.model.provider import Outcome, ProviderResult
from app.domain.services.catalog import NewProduct
from app.domain.services.orders import NewOrder
from tests.unit.builders import CUSTOMER
from tests.workers.conftest import join

CARD = CardDetails.parse("4242424242424242", 12, 2035, "123", date(2026, 1, 1))


async def fetch(services, sql: str, *args):
    async with services.engine.transaction() as tx:
        return await tx.connection.fetch(sql, *args)


async def test_relayed_payment_succeeded_allocates_once_and_starts_fulfillment(services, stub_broker, worker,
                                                                               quiet_outbox):
    merchant_id = (await services.merchants.create("No-webhook shop")).merchant.id
    product = await services.catalog.create(merchant_id, NewProduct("BOX", "Box", 700, "USD", 2, 3))
    order = await services.orders.create(merchant_id, NewOrder(None, "USD", [RequestedItem(2, "BOX")], CUSTOMER))
    attempt = await services.payments.request(merchant_id, order.id, "sandbox", CARD)
    await services.payments.settle(attempt.id, ProviderResult(Outcome.SUCCEEDED, "ref-1"))
    stub_broker.get_actor("relay_outbox").send()
    await join(stub_broker, "outbox")
    await join(stub_broker, "fulfillment")
    [row] = await fetch(services, "SELECT status, estimated_delivery FROM orders WHERE id = $1", order.id)
    assert row["status"] == "FULFILLMENT_STARTED" and row["estimated_delivery"] is not None
    [event] = await fetch(services, "SELECT id FROM outbox WHERE event_type = 'payment.succeeded' "
                                    "AND aggregate_id = $1", attempt.id)
    redelivery = {"order_id": str(order.id), "payment_id": str(attempt.id), "merchant_id": str(merchant_id),
                  "event_id": str(event["id"])}
    for _ in range(5):
        stub_broker.get_actor("allocate_stock").send(**redelivery)
    await join(stub_broker, "fulfillment")
    [stock] = await fetch(services, "SELECT on_hand, reserved, allocated FROM products WHERE id = $1", product.id)
    assert tuple(stock) == (3, 0, 2)
    started = await fetch(services, "SELECT count(*) AS n FROM outbox WHERE event_type = 'order.fulfillment_started'"
                                    " AND aggregate_id = $1", order.id)
    assert started[0]["n"] == 1

"""Catalog orders end to end: the API and the sandbox gateway as real processes. A paid
order's stock is allocated and its fulfillment starts with a delivery estimate; a
declined card gives the reservation back; cancelling a fulfilled order refunds it and
returns the stock."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import wait_for_order
from tests.e2e.test_payments_flow import DECLINED, SUCCESS, pay


async def catalog_order(api, merchant, sku: str, quantity: int, stock: int) -> tuple[dict, dict]:
    product = await api.post("/products", headers=merchant.headers, json={
        "sku": sku, "name": sku.title(), "unit_amount": 1500, "currency": "USD", "stock": stock,
        "lead_time_days": 1})
    assert product.status_code == 201, product.text
    order = await api.post("/orders", headers=merchant.headers,
                           json={"currency": "USD", "items": [{"sku": sku, "quantity": quantity}]})
    assert order.status_code == 201, order.text
    return product.json(), order.json()


async def stock(api, merchant, product: dict) -> dict:
    return (await api.get(f"/products/{product['id']}", headers=merchant.headers)).json()["stock"]


async def test_paid_catalog_order_is_fulfilled_then_cancel_refunds_and_returns_stock(api, sandbox, merchant):
    product, order = await catalog_order(api, merchant, "LAMP", 2, stock=3)
    assert order["amount"] == 3000
    await pay(api, merchant, order["id"], SUCCESS)
    fulfilled = await wait_for_order(api, merchant, order["id"], statuses={"FULFILLMENT_STARTED", "ORDER_CANCELLED"})
    assert fulfilled["status"] == "FULFILLMENT_STARTED" and fulfilled["estimated_delivery"] is not None
    assert await stock(api, merchant, product) == {"on_hand": 3, "reserved": 0, "allocated": 2, "available": 1}
    cancelled = await api.post(f"/orders/{order['id']}/cancel", headers=merchant.headers,
                               json={"reason": "changed my mind"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status_reason"] == "changed my mind"
    for _ in range(200):
        refunds = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()["refunds"]
        if refunds and refunds[0]["status"] == "SUCCESS":
            break
        await asyncio.sleep(0.05)
    assert refunds[0]["status"] == "SUCCESS" and refunds[0]["amount"] == 3000
    assert await stock(api, merchant, product) == {"on_hand": 3, "reserved": 0, "allocated": 0, "available": 3}


async def test_declined_card_gives_the_reservation_back(api, sandbox, merchant):
    product, order = await catalog_order(api, merchant, "VASE", 1, stock=1)
    await pay(api, merchant, order["id"], DECLINED)
    failed = await wait_for_order(api, merchant, order["id"])
    assert failed["status"] == "PAYMENT_FAILED" and failed["status_reason"] == "card_declined"
    assert await stock(api, merchant, product) == {"on_hand": 1, "reserved": 0, "allocated": 0, "available": 1}

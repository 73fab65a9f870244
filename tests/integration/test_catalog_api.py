"""The catalog over HTTP against real PostgreSQL: products, stock adjustments, order
items priced from the catalog; bad input is a 4xx problem and writes nothing."""

from __future__ import annotations

import uuid

import pytest


async def add_product(client, merchant, sku="MUG", **fields):
    body = {"sku": sku, "name": f"Product {sku}", "unit_amount": 1200, "currency": "USD", "stock": 10,
            "lead_time_days": 2, **fields}
    response = await client.post("/products", headers=merchant.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def count(container, sql: str, *args) -> int:
    async with container.engine.transaction() as tx:
        return await tx.connection.fetchval(sql, *args)


async def test_product_lifecycle(client, merchant, other_merchant):
    product = await add_product(client, merchant, "LAMP", stock=3)
    assert product["stock"] == {"on_hand": 3, "reserved": 0, "allocated": 0, "available": 3}
    path = f"/products/{product['id']}"
    updated = await client.put(path, headers=merchant.headers, json={"name": "Desk lamp", "unit_amount": 1500})
    assert updated.status_code == 200 and updated.json()["unit_amount"] == 1500
    assert updated.json()["stock"]["on_hand"] == 3
    adjusted = await client.post(f"{path}/stock-adjustments", headers=merchant.headers,
                                 json={"delta": 7, "reason": "delivery from supplier"})
    assert adjusted.status_code == 201 and adjusted.json()["product"]["stock"]["on_hand"] == 10
    history = (await client.get(f"{path}/stock-adjustments", headers=merchant.headers)).json()["data"]
    assert [(a["delta"], a["reason"]) for a in history] == [(7, "delivery from supplier"), (3, "initial stock")]
    deactivated = await client.post(f"{path}/deactivate", headers=merchant.headers)
    assert deactivated.status_code == 200 and deactivated.json()["active"] is False
    assert (await client.get(path, headers=other_merchant.headers)).status_code == 404


async def test_list_pages_with_a_cursor(client, merchant):
    made = [(await add_product(client, merchant, f"SKU-{index}"))["id"] for index in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/products", headers=merchant.headers, params=params)).json()
        seen += [p["id"] for p in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert seen == list(reversed(made))


async def test_duplicate_sku_is_409(client, merchant):
    await add_product(client, merchant, "DUP")
    again = await client.post("/products", headers=merchant.headers, json={
        "sku": "DUP", "name": "x", "unit_amount": 1, "currency": "USD"})
    assert again.status_code == 409 and again.json()["code"] == "duplicate_sku"


async def test_catalog_order_is_priced_by_the_catalog(client, merchant):
    await add_product(client, merchant, "MUG", unit_amount=1200)
    response = await client.post("/orders", headers=merchant.headers, json={
        "currency": "USD", "items": [{"sku": "MUG", "quantity": 2}, {"sku": "MUG", "quantity": 1},
                                     {"name": "Gift wrap", "quantity": 1, "unit_amount": 300}]})
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["amount"] == 3 * 1200 + 300 and order["items"][0]["unit_amount"] == 1200


BAD_ITEMS = [
    ("unknown sku", "USD", [{"sku": "NOPE", "quantity": 1}], 422, "unknown_sku"),
    ("inactive sku", "USD", [{"sku": "OLD", "quantity": 1}], 422, "inactive_sku"),
    ("quantity 0", "USD", [{"sku": "MUG", "quantity": 0}], 400, "validation_failed"),
    ("quantity huge", "USD", [{"sku": "MUG", "quantity": 100_000}], 422, "quantity_too_large"),
    ("currency mismatch", "EUR", [{"sku": "MUG", "quantity": 1}], 422, "currency_mismatch"),
    ("client price disagrees", "USD", [{"sku": "MUG", "quantity": 1, "unit_amount": 1}], 422, "price_mismatch"),
]


@pytest.mark.parametrize(("name", "currency", "items", "status", "code"), BAD_ITEMS, ids=[b[0] for b in BAD_ITEMS])
async def test_bad_catalog_items(client, merchant, container, name, currency, items, status, code):
    await add_product(client, merchant, "MUG")
    old = await add_product(client, merchant, "OLD")
    await client.post(f"/products/{old['id']}/deactivate", headers=merchant.headers)
    response = await client.post("/orders", headers=merchant.headers, json={"currency": currency, "items": items})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert await count(container, "SELECT count(*) FROM orders WHERE merchant_id = $1", uuid.UUID(merchant.id)) == 0


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"delta": -11, "reason": "lost"}, 422, "stock_below_zero"),
    ({"delta": 0, "reason": "nothing"}, 422, "invalid_stock_delta"),
    ({"delta": 5}, 400, "validation_failed"),
    ({"delta": 5, "reason": ""}, 400, "validation_failed"),
])
async def test_bad_stock_adjustments(client, merchant, container, body, status, code):
    product = await add_product(client, merchant, "MUG")
    response = await client.post(f"/products/{product['id']}/stock-adjustments", headers=merchant.headers,
                                 json=body)
    assert response.status_code == status and response.json()["code"] == code, response.text
    assert await count(container, "SELECT count(*) FROM stock_adjustments WHERE product_id = $1",
                       uuid.UUID(product["id"])) == 1  # the initial one only
    assert (await client.get(f"/products/{product['id']}", headers=merchant.headers)).json()["stock"]["on_hand"] == 10


async def test_the_database_refuses_overcommitted_stock_whatever_the_code(container, merchant):
    """The guarantee is the CHECK constraint, not the code path that normally keeps it."""
    import asyncpg

    product = await add_product_direct(container, merchant)
    with pytest.raises(asyncpg.CheckViolationError):
        async with container.engine.transaction() as tx:
            await tx.connection.execute("UPDATE products SET allocated = on_hand + 1 WHERE id = $1", product)


async def add_product_direct(container, merchant) -> uuid.UUID:
    from app.domain.services.catalog import NewProduct

    created = await container.catalog.create(uuid.UUID(merchant.id), NewProduct("RAW", "Raw", 100, "USD", 0, 2))
    return created.id


async def test_payment_without_enough_stock_is_refused_before_the_provider(client, merchant, container):
    await add_product(client, merchant, "LAST", stock=1)
    order = (await client.post("/orders", headers=merchant.headers, json={
        "currency": "USD", "items": [{"sku": "LAST", "quantity": 1}, {"sku": "LAST", "quantity": 1}]})).json()
    response = await client.post("/payments", headers=merchant.headers, json={
        "order_id": order["id"], "provider": "sandbox",
        "payment_method": {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2035,
                           "cvc": "123"}})
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "insufficient_stock" and response.json()["skus"] == ["LAST"]
    assert await count(container, "SELECT count(*) FROM payment_attempts WHERE order_id = $1",
                       uuid.UUID(order["id"])) == 0
    fetched = (await client.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
    assert fetched["status"] == "CREATED" and fetched["payments"] == []

"""Orders over HTTP against real PostgreSQL."""

from __future__ import annotations

import uuid

ORDER = {
    "amount": 2500,
    "currency": "USD",
    "items": [{"name": "Mug", "quantity": 2, "unit_amount": 1000},
              {"name": "Shipping", "quantity": 1, "unit_amount": 500}],
    "customer": {"email": "ada@example.com", "name": "Ada"},
}


async def create_order(client, merchant, body=None, **headers):
    response = await client.post("/orders", json=body or ORDER, headers={**merchant.headers, **headers})
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_then_get(client, merchant):
    product = await client.post("/products", headers=merchant.headers, json={
        "sku": "MUG-1", "name": "Mug", "unit_amount": 1000, "currency": "USD", "stock": 5})
    assert product.status_code == 201, product.text
    catalog_order = {**ORDER, "items": [{"quantity": 2, "sku": "MUG-1"}, ORDER["items"][1]]}
    created = await create_order(client, merchant, catalog_order)
    assert created["status"] == "CREATED"
    assert created["amount"] == 2500 and created["currency"] == "USD"
    fetched = await client.get(f"/orders/{created['id']}", headers=merchant.headers)
    assert fetched.status_code == 200
    assert fetched.json()["items"][0] == {"name": "Mug", "quantity": 2, "unit_amount": 1000, "sku": "MUG-1"}
    assert fetched.json()["payments"] == [] and fetched.json()["refunds"] == []


async def test_order_created_event_written_to_outbox_in_same_transaction(client, merchant, container):
    created = await create_order(client, merchant)
    async with container.engine.transaction() as tx:
        rows = await tx.connection.fetch(
            "SELECT event_type, payload->>'status' AS status FROM outbox WHERE aggregate_id = $1",
            uuid.UUID(created["id"]))
    assert [(r["event_type"], r["status"]) for r in rows] == [("order.created", "CREATED")]


async def test_modify_only_in_created(client, merchant):
    created = await create_order(client, merchant)
    modified = await client.put(f"/orders/{created['id']}", headers=merchant.headers,
                                json={"amount": 700, "items": [], "description": "smaller"})
    assert modified.status_code == 200, modified.text
    assert modified.json()["amount"] == 700 and modified.json()["description"] == "smaller"
    assert (await client.post(f"/orders/{created['id']}/cancel", headers=merchant.headers)).status_code == 200
    again = await client.put(f"/orders/{created['id']}", headers=merchant.headers, json={"amount": 800})
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_state_transition"
    assert again.json()["current_state"] == "ORDER_CANCELLED"


async def test_cancel_twice_is_409_with_current_state(client, merchant):
    created = await create_order(client, merchant)
    first = await client.post(f"/orders/{created['id']}/cancel", headers=merchant.headers, json={"reason": "x"})
    assert first.json()["status"] == "ORDER_CANCELLED"
    second = await client.post(f"/orders/{created['id']}/cancel", headers=merchant.headers)
    assert second.status_code == 409 and second.json()["current_state"] == "ORDER_CANCELLED"
    assert second.headers["content-type"].startswith("application/problem+json")


async def test_merchant_isolation(client, merchant, other_merchant):
    created = await create_order(client, merchant)
    for method, path in [("GET", f"/orders/{created['id']}"), ("PUT", f"/orders/{created['id']}"),
                         ("POST", f"/orders/{created['id']}/cancel")]:
        response = await client.request(method, path, headers=other_merchant.headers,
                                         json={"amount": 1} if method == "PUT" else None)
        assert response.status_code == 404, (method, response.text)
    listed = await client.get("/orders", headers=other_merchant.headers)
    assert created["id"] not in [o["id"] for o in listed.json()["data"]]
    unchanged = await client.get(f"/orders/{created['id']}", headers=merchant.headers)
    assert unchanged.json()["status"] == "CREATED"


async def test_list_filters_and_cursor_pagination(client, merchant):
    ids = [(await create_order(client, merchant, {"amount": 100 + i, "currency": "EUR"}))["id"] for i in range(5)]
    await client.post(f"/orders/{ids[0]}/cancel", headers=merchant.headers)
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/orders", headers=merchant.headers, params=params)).json()
        seen += [o["id"] for o in page["data"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == list(reversed(ids))
    cancelled = (await client.get("/orders", headers=merchant.headers,
                                  params={"status": "ORDER_CANCELLED"})).json()["data"]
    assert [o["id"] for o in cancelled] == [ids[0]]
    first = (await client.get(f"/orders/{ids[0]}", headers=merchant.headers)).json()
    after = (await client.get("/orders", headers=merchant.headers,
                              params={"created_after": first["created_at"]})).json()["data"]
    assert ids[0] in [o["id"] for o in after] and len(after) == 5
    before = (await client.get("/orders", headers=merchant.headers,
                               params={"created_before": first["created_at"]})).json()["data"]
    assert ids[0] not in [o["id"] for o in before]


async def test_merchant_reference_is_unique_per_merchant(client, merchant, other_merchant):
    body = {**ORDER, "merchant_reference": "cart-42"}
    first = await create_order(client, merchant, body)
    duplicate = await client.post("/orders", json=body, headers=merchant.headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_order"
    assert duplicate.json()["existing_order_id"] == first["id"]
    assert (await client.post("/orders", json=body, headers=other_merchant.headers)).status_code == 201


async def test_health_and_ready(client):
    assert (await client.get("/health")).json()["status"] == "ok"
    ready = await client.get("/ready")
    assert ready.status_code == 200 and ready.json()["status"] == "ok" and ready.json()["down"] == []
    assert {name: check["status"] for name, check in ready.json()["checks"].items()} == {"database": "ok", "redis": "ok",
                                                                                     "schema": "ok"}


async def test_request_id_is_echoed_or_generated(client, merchant):
    echoed = await client.get("/health", headers={"X-Request-ID": "req-123"})
    assert echoed.headers["x-request-id"] == "req-123"
    generated = await client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces" and len(generated.headers["x-request-id"]) == 32


async def test_openapi_schema_served(client):
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["openapi"].startswith("3.1")
    assert "/orders" in schema["paths"]
    assert (await client.get("/schema")).status_code == 200

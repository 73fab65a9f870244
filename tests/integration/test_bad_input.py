"""Bad input gets a 4xx problem detail, never a 500, and nothing is written."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.test_orders_api import ORDER

BAD_BODIES = [
    ("malformed json", b'{"amount": 10, ', 400),
    ("wrong type", {"amount": "ten", "currency": "USD"}, 400),
    ("missing field", {"amount": 100}, 400),
    ("no amount and no items to add up", {"currency": "USD"}, 422),
    ("unknown field", {**ORDER, "colour": "red"}, 400),
    ("zero amount", {"amount": 0, "currency": "USD"}, 400),
    ("negative amount", {"amount": -5, "currency": "USD"}, 400),
    ("fractional amount", {"amount": 10.5, "currency": "USD"}, 400),
    ("amount past maximum", {"amount": 10**12, "currency": "USD"}, 400),
    ("unknown currency", {"amount": 100, "currency": "XYZ"}, 400),
    ("malformed currency", {"amount": 100, "currency": "US"}, 400),
    ("items total mismatch", {"amount": 100, "currency": "USD",
                              "items": [{"name": "a", "quantity": 1, "unit_amount": 99}]}, 422),
    ("too many items", {"amount": 101, "currency": "USD",
                        "items": [{"name": "a", "quantity": 1, "unit_amount": 1}] * 101}, 400),
    ("zero quantity", {"amount": 100, "currency": "USD",
                       "items": [{"name": "a", "quantity": 0, "unit_amount": 100}]}, 400),
    ("array body", [1, 2], 400),
    ("NUL in a text field", {**ORDER, "merchant_reference": "a\u0000b"}, 400),
    ("NUL in an item name", {"amount": 100, "currency": "USD",
                             "items": [{"name": "a\u0000", "quantity": 1, "unit_amount": 100}]}, 400),
]


@pytest.mark.parametrize(("name", "body", "status"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
async def test_bad_order_bodies(client, merchant, container, name, body, status):
    kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
    response = await client.post("/orders", headers={**merchant.headers, "content-type": "application/json"},
                                 **kwargs)
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["status"] == status and problem["code"] and problem["detail"] and problem["type"]
    async with container.engine.transaction() as tx:
        count = await tx.connection.fetchval("SELECT count(*) FROM orders WHERE merchant_id = $1",
                                             uuid.UUID(merchant.id))
    assert count == 0


async def test_validation_errors_name_the_fields(client, merchant):
    response = await client.post("/orders", headers=merchant.headers, json={"amount": "x", "currency": "USD"})
    assert any("amount" in error["field"] for error in response.json()["errors"])
    business = await client.post("/orders", headers=merchant.headers, json={
        "amount": 100, "currency": "USD", "items": [{"name": "a", "quantity": 1, "unit_amount": 99}]})
    assert business.status_code == 422
    assert business.json()["errors"] == [
        {"field": "items", "message": "the items add up to a different total than the order amount"}]


async def test_oversized_body_is_413(client, merchant):
    big = {**ORDER, "description": "x" * 100_000}
    response = await client.post("/orders", headers=merchant.headers, json=big)
    assert response.status_code == 413
    keyed = await client.post("/orders", headers={**merchant.headers, "Idempotency-Key": "big"}, json=big)
    assert keyed.status_code == 413 and keyed.json()["code"] == "request_too_large"


@pytest.mark.parametrize("path", ["/orders/not-a-uuid", "/orders/123"])
async def test_invalid_uuid_in_path_is_4xx(client, merchant, path):
    response = await client.get(path, headers=merchant.headers)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_unknown_order_is_404(client, merchant):
    response = await client.get(f"/orders/{uuid.uuid4()}", headers=merchant.headers)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sk_test_wrong"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer "}])
async def test_missing_or_wrong_api_key_is_401(client, headers):
    response = await client.post("/orders", json=ORDER, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert (await client.get("/orders", headers=headers)).status_code == 401


async def test_bad_list_parameters(client, merchant):
    for params in [{"limit": 0}, {"limit": 1000}, {"status": "NOPE"}, {"cursor": "%%%"},
                   {"created_after": "yesterday"}]:
        response = await client.get("/orders", headers=merchant.headers, params=params)
        assert 400 <= response.status_code < 500, (params, response.text)

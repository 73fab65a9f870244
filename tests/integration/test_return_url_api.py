"""POST /payments and retry: a return_url that is not safe to send a shopper to is a 4xx
problem with a stable code, and nothing is written. (Accepted ones are driven end to end
in tests/e2e/test_three_d_secure.py, where a sandbox gateway is running.)"""

from __future__ import annotations

import uuid

import pytest

from tests.integration.test_orders_api import create_order

CARD = {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}

REFUSED = [
    ("http to a public host", "http://shop.example/back", 422, "invalid_return_url"),
    ("http to a private address", "http://192.168.1.10/back", 422, "invalid_return_url"),
    ("javascript", "javascript:alert(document.cookie)", 422, "invalid_return_url"),
    ("relative", "/orders/42", 422, "invalid_return_url"),
    ("credentials", "https://admin:pw@shop.example/back", 422, "invalid_return_url"),
    ("custom scheme", "shopapp://paid", 422, "invalid_return_url"),
    ("header injection", "https://shop.example/\r\nLocation: https://evil.example", 422, "invalid_return_url"),
    ("empty", "", 400, "validation_failed"),
    ("too long", "https://shop.example/" + "a" * 2100, 400, "validation_failed"),
    ("not a string", 42, 400, "validation_failed"),
]


async def attempts_of(container, order_id: str) -> int:
    async with container.engine.transaction() as tx:
        return await tx.connection.fetchval("SELECT count(*) FROM payment_attempts WHERE order_id = $1",
                                            uuid.UUID(order_id))


@pytest.mark.parametrize(("name", "url", "status", "code"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_payment_with_a_bad_return_url_is_refused(client, merchant, container, name, url, status, code):
    order = await create_order(client, merchant)
    response = await client.post("/payments", headers=merchant.headers,
                                 json={"order_id": order["id"], "payment_method": CARD, "return_url": url})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert (problem["status"], problem["code"]) == (status, code)
    assert any(error["field"].endswith("return_url") for error in problem["errors"])
    assert await attempts_of(container, order["id"]) == 0
    current = await client.get(f"/orders/{order['id']}", headers=merchant.headers)
    assert current.json()["status"] == "CREATED"


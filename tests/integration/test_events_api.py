"""GET /events and GET /events/{id} against real PostgreSQL: the merchant's webhook
events, filters, keyset pagination, tenant isolation and bad input."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.test_orders_api import create_order


async def cancelled_order(client, merchant, reference: str | None = None) -> dict:
    body = {"amount": 1200, "currency": "EUR", **({"merchant_reference": reference} if reference else {})}
    order = await create_order(client, merchant, body)
    cancelled = await client.post(f"/orders/{order['id']}/cancel", headers=merchant.headers, json={"reason": "test"})
    assert cancelled.status_code == 200, cancelled.text
    return order


async def list_events(client, merchant, **params) -> dict:
    response = await client.get("/events", headers=merchant.headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_order_change_is_an_event_with_the_order_it_is_about(client, merchant):
    order = await cancelled_order(client, merchant, "shop-ref-1")
    [event] = (await list_events(client, merchant, order_id=order["id"]))["data"]
    assert event["type"] == "order.status_changed"
    assert event["data"]["order_id"] == order["id"] and event["data"]["status"] == "ORDER_CANCELLED"
    assert event["data"]["order"] == {"id": order["id"], "merchant_reference": "shop-ref-1", "amount": 1200,
                                      "currency": "EUR", "status": "ORDER_CANCELLED"}
    assert set(event["delivery"]) == {"status", "next_attempt_at", "attempts"}
    one = await client.get(f"/events/{event['id']}", headers=merchant.headers)
    assert one.status_code == 200
    # The in-process consumer may try the delivery between the two reads: the event
    # is the same, its delivery may have moved on.
    assert {**one.json(), "delivery": None} == {**event, "delivery": None}
    assert one.json()["delivery"]["status"] in {"pending", "failed"}  # merchant.example does not resolve


async def test_filters_by_type_order_and_time(client, merchant):
    first = await cancelled_order(client, merchant)
    second = await cancelled_order(client, merchant)
    events = (await list_events(client, merchant, limit=100))["data"]
    ours = [e for e in events if e["data"]["order_id"] in (first["id"], second["id"])]
    assert [e["data"]["order_id"] for e in ours] == [second["id"], first["id"]]  # newest first
    assert (await list_events(client, merchant, type="payment.succeeded"))["data"] == []
    typed = await list_events(client, merchant, type=["order.status_changed", "payment.failed"])
    assert {e["id"] for e in typed["data"]} >= {e["id"] for e in ours}
    only_second = (await list_events(client, merchant, order_id=second["id"]))["data"]
    assert [e["data"]["order_id"] for e in only_second] == [second["id"]]
    at = ours[0]["created_at"]
    assert (await list_events(client, merchant, created_after=at.replace("+00:00", "Z")))["data"][-1]["id"] == ours[0]["id"]
    before = (await list_events(client, merchant, created_before=at.replace("+00:00", "Z")))["data"]
    assert ours[0]["id"] not in {e["id"] for e in before} and ours[1]["id"] in {e["id"] for e in before}


async def test_cursor_pagination_walks_every_event_once(client, merchant):
    for _ in range(3):
        await cancelled_order(client, merchant)
    seen, cursor = [], None
    while True:
        page = await list_events(client, merchant, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [e["id"] for e in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 3


async def test_a_merchant_never_sees_another_merchants_events(client, merchant, other_merchant):
    order = await cancelled_order(client, merchant)
    [event] = (await list_events(client, merchant, order_id=order["id"]))["data"]
    theirs = await client.get(f"/events/{event['id']}", headers=other_merchant.headers)
    assert theirs.status_code == 404 and theirs.json()["code"] == "not_found"
    assert (await list_events(client, other_merchant, order_id=order["id"]))["data"] == []
    assert event["id"] not in {e["id"] for e in (await list_events(client, other_merchant, limit=100))["data"]}


async def test_internal_events_are_not_shown(client, merchant, container):
    """order.created is not a webhook event: it stays internal."""
    order = await create_order(client, merchant, {"amount": 500, "currency": "USD"})
    async with container.engine.transaction() as transaction:
        [created] = await transaction.connection.fetch(
            "SELECT id FROM outbox WHERE aggregate_id = $1 AND event_type = 'order.created'", uuid.UUID(order["id"]))
    assert (await list_events(client, merchant, order_id=order["id"]))["data"] == []
    assert (await client.get(f"/events/{created['id']}", headers=merchant.headers)).status_code == 404


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"type": "order.exploded"}, 400, "validation_failed"),
    ({"order_id": "not-a-uuid"}, 400, "validation_failed"),
    ({"limit": "0"}, 400, "validation_failed"),
    ({"limit": "ten"}, 400, "validation_failed"),
    ({"created_after": "yesterday"}, 400, None),
    ({"colour": "red"}, 400, "unknown_query_parameter"),
    ({"cursor": "bm90LWEtY3Vyc29y"}, 422, "invalid_cursor"),
])
async def test_bad_input_is_a_problem(client, merchant, params, status, code):
    response = await client.get("/events", headers=merchant.headers, params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    if code:
        assert response.json()["code"] == code


async def test_unknown_ids_and_credentials(client, merchant):
    assert (await client.get(f"/events/{uuid.uuid4()}", headers=merchant.headers)).status_code == 404
    assert (await client.get("/events/42", headers=merchant.headers)).status_code in (400, 404)
    assert (await client.get("/events")).status_code == 401
    assert (await client.post("/events", headers=merchant.headers, json={})).status_code == 405

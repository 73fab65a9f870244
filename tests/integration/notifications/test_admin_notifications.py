"""Operators see shopper notifications: GET /admin/notifications lists deliveries with every
attempt, filtered by status, channel, order and time, paged by cursor; bad filters are 400
problems; the order's timeline shows the deliveries and attempts; reading is a data_lookup."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest

from app.domain.model.notification import NotificationPreferences
from app.entrypoints.http.app import create_app
from tests.integration.notifications.conftest import shopper_event
from tests.integration.notifications.test_delivery_jobs import guest_order
from tests.integration.test_http_edge import assert_problem

ADMIN_KEY = "notifications-admin-key"


@pytest.fixture
async def admin(notifying):
    c = notifying.container
    settings = msgspec.structs.replace(c.settings, api=msgspec.structs.replace(c.settings.api, admin_api_key=ADMIN_KEY))
    app = create_app(dataclasses.replace(c, settings=settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://admin.test",
                                 headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        yield client


async def test_deliveries_with_their_attempts_by_filter_and_page(admin, notifying, merchant):
    c = notifying.container
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    await c.notification_preferences._store.put(uuid.UUID(merchant.id), None, NotificationPreferences.build(
        {"payment_receipt": ["email", "sms"]}))
    order = await guest_order(c, merchant.id, email="later@example.com")  # the sink answers 451: retried
    paid = await shopper_event("payment.succeeded", merchant.id, order.id, amount=2500, currency="USD")
    await c.customer_notifications.notify_event(paid)
    mine = {"merchant_id": merchant.id, "created_from": since}

    listed = (await admin.get("/admin/notifications", params={**mine, "order_id": str(order.id)})).json()
    by_channel = {d["channel"]: d for d in listed["data"]}
    assert set(by_channel) == {"email", "sms"} and listed["has_more"] is False and listed["next_cursor"] is None
    sms, email = by_channel["sms"], by_channel["email"]
    assert (sms["status"], sms["recipient"], sms["event_type"], sms["in_doubt"]) == (
        "delivered", "+14155550100", "payment.succeeded", False)
    assert [a["outcome"] for a in sms["attempts"]] == ["delivered"] and sms["attempts"][0]["provider_message_id"]
    assert email["attempts"][0]["outcome"] == "retry_scheduled" and "451" in email["attempts"][0]["error"]

    only_sms = (await admin.get("/admin/notifications", params={**mine, "channel": "sms"})).json()["data"]
    assert [d["id"] for d in only_sms] == [sms["id"]]
    delivered = (await admin.get("/admin/notifications", params={**mine, "status": "delivered"})).json()["data"]
    assert [d["id"] for d in delivered] == [sms["id"]]
    first = (await admin.get("/admin/notifications", params={**mine, "limit": 1})).json()
    second = (await admin.get("/admin/notifications", params={**mine, "limit": 1, "cursor": first["next_cursor"]})).json()
    assert first["has_more"] and {first["data"][0]["id"], second["data"][0]["id"]} == {sms["id"], email["id"]}
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await admin.get("/admin/notifications", params={**mine, "created_from": later})).json()["data"] == []

    timeline = (await admin.get(f"/admin/orders/{order.id}/timeline")).json()["entries"]
    kinds = [e["kind"] for e in timeline]
    assert kinds.count("notification") == 2 and kinds.count("notification_attempt") >= 2

    await c.audit.flush()
    async with c.engine.transaction() as tx:
        actions = await tx.connection.fetch(
            "SELECT action FROM audit_log WHERE event_type = 'data_lookup' AND entities @> $1::jsonb",
            f'{{"order": "{order.id}"}}')
    assert {"list_deliveries", "timeline"} <= {r["action"] for r in actions}


@pytest.mark.parametrize(("params", "code"), [
    ({"status": "sent"}, "validation_failed"),
    ({"channel": "fax"}, "validation_failed"),
    ({"order_id": "not-a-uuid"}, "validation_failed"),
    ({"created_from": "yesterday"}, "validation_failed"),
    ({"created_from": "2026-11-26T00:00:00Z", "created_to": "2026-11-25T00:00:00Z"}, "invalid_filter"),
    ({"limit": "0"}, "validation_failed"),
])
async def test_bad_filters_are_400_problems(admin, params, code):
    assert_problem(await admin.get("/admin/notifications", params=params), 400, code)


async def test_a_cursor_it_did_not_issue_is_refused(admin):
    assert_problem(await admin.get("/admin/notifications", params={"cursor": "nope"}), 422, "invalid_cursor")


async def test_merchants_cannot_list_deliveries(admin, merchant):
    response = await admin.get("/admin/notifications", headers={"Authorization": f"Bearer {merchant.api_key}"})
    assert response.status_code == 403

"""What a merchant reads back with GET /events: the very payload its webhook received,
every delivery attempt (status, latency, error); and resends to an endpoint that would
not be called are refused with a 409, never accepted and dropped."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from standardwebhooks import Webhook

from app.domain.model.order import Customer
from app.domain.services.orders import NewOrder
from tests.workers.conftest import add_event, webhook_merchant
from tests.workers.receiver import WebhookReceiver
from tests.workers.test_webhooks import STATUS_CHANGED, notify, settle


def events_client(services, api_key: str) -> httpx.AsyncClient:
    from litestar import Litestar

    from app.entrypoints.http.access import authorize
    from app.entrypoints.http.auth import Authenticator
    from app.entrypoints.http.controllers.events import EventController
    from app.entrypoints.http.problems import EXCEPTION_HANDLERS, problem_details_plugin

    app = Litestar(route_handlers=[EventController], plugins=[problem_details_plugin],
                   exception_handlers=EXCEPTION_HANDLERS, guards=[authorize])
    app.state.container = services
    app.state.authenticator = Authenticator(services.merchants, services.access_tokens, services.sessions,
                                            services.settings.api.admin_api_key, services.key_revocations)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://events.test",
                             headers={"Authorization": f"Bearer {api_key}"})


async def test_an_event_is_the_payload_its_webhook_carried_with_every_attempt(
        services, stub_broker, worker, receiver, shop):
    receiver.statuses = [500]  # then 200
    order = await services.orders.create(shop.merchant.id, NewOrder(4200, "USD", [], Customer(), "inv-77"))
    await services.orders.cancel(shop.merchant.id, order.id, "out of stock")
    async with services.engine.transaction() as transaction:
        event_id = await transaction.connection.fetchval(
            "SELECT id FROM outbox WHERE aggregate_id = $1 AND event_type = 'order.status_changed'", order.id)
    await notify(stub_broker, event_id, services)
    assert len(receiver.received) == 2
    delivered = Webhook(shop.webhook_secret).verify(receiver.received[-1].body, receiver.received[-1].headers)
    assert delivered["data"]["order"] == {"id": str(order.id), "merchant_reference": "inv-77", "amount": 4200,
                                          "currency": "USD", "status": "ORDER_CANCELLED"}
    async with events_client(services, shop.api_key) as client:
        response = await client.get(f"/events/{event_id}")
        listed = await client.get("/events", params={"order_id": str(order.id)})
    assert response.status_code == 200, response.text
    event = response.json()
    assert {key: event[key] for key in ("id", "type", "created_at", "data")} == json.loads(receiver.received[-1].body)
    delivery = event["delivery"]
    assert delivery["status"] == "delivered" and delivery["next_attempt_at"] is None
    assert [(a["attempt"], a["status_code"], a["error"], a["succeeded"]) for a in delivery["attempts"]] == [
        (1, 500, "HTTP 500", False), (2, 200, None, True)]
    assert all(a["latency_ms"] >= 0 and a["url"] == receiver.url for a in delivery["attempts"])
    assert listed.json()["data"] == [event]


async def test_a_failing_endpoint_shows_its_errors_and_next_try(services, stub_broker, worker, container):
    async with WebhookReceiver() as gone:
        url = gone.url  # closed: connections are refused
    created = await webhook_merchant(container, url)
    event_id = await add_event("order.status_changed", created.merchant.id, STATUS_CHANGED)
    await notify(stub_broker, event_id, services)
    async with events_client(services, created.api_key) as client:
        event = (await client.get(f"/events/{event_id}")).json()
    assert event["delivery"]["status"] == "dead"
    assert [a["status_code"] for a in event["delivery"]["attempts"]] == [None, None, None]
    assert all("ConnectError" in a["error"] for a in event["delivery"]["attempts"])


async def test_resending_to_a_disabled_endpoint_is_a_409(services, stub_broker, worker, receiver, shop, admin):
    receiver.statuses = [410]
    event_id = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED)
    await notify(stub_broker, event_id, services)
    response = await admin.post(f"/admin/webhooks/{event_id}/resend")
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "webhook_endpoint_disabled"
    assert response.headers["content-type"].startswith("application/problem+json")
    job = await services.webhook_schedule.status(event_id)
    assert job is None or job["status"] != "pending"  # nothing was scheduled
    await settle(services, stub_broker, event_id)
    assert len(receiver.received) == 1


async def test_resending_without_a_webhook_url_is_a_409(services, container, admin):
    created = await container.merchants.create("No hooks")
    event_id = await add_event("order.status_changed", created.merchant.id, STATUS_CHANGED)
    response = await admin.post(f"/admin/webhooks/{event_id}/resend")
    assert response.status_code == 409 and response.json()["code"] == "webhook_endpoint_missing"
    assert (await admin.post(f"/admin/webhooks/{uuid.uuid4()}/resend")).status_code == 404

"""Merchant webhooks through the notify_merchant actor: Standard Webhooks signatures,
the retry schedule (same webhook-id every time), the delivery log, 410 Gone, refusal of
private targets, dead-lettering once the schedule is exhausted, and admin resends."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from standardwebhooks import Webhook

from app.adapters.db.tables import MerchantTable
from app.adapters.notify.target_guard import WebhookTargetGuard
from app.adapters.notify.webhooks import StandardWebhookSender
from app.domain.services.notifications import DeliveryOutcome
from tests.workers.conftest import add_event, join, webhook_merchant
from tests.workers.receiver import WebhookReceiver

STATUS_CHANGED = {"order_id": "8a7f", "previous_status": "PAYMENT_IN_PROGRESS", "status": "PAYMENT_DONE",
                  "reason": None}


async def settle(services, broker, event_id: uuid.UUID, timeout_s: float = 10.0) -> None:
    """Run the poller (what the periodic tick does) until the delivery's job is over."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        await services.webhook_schedule.wake_due(services.publisher)
        await join(broker, "webhooks")
        job = await services.webhook_schedule.status(event_id)
        if job is None or job["status"] != "pending":
            return
        assert asyncio.get_running_loop().time() < deadline, f"delivery still pending: {job}"
        await asyncio.sleep(0.05)  # the next retry is not due yet


async def notify(broker, event_id: uuid.UUID, services=None) -> None:
    """A notify_merchant message without a lease: delivered at once, its retries then
    woken from PostgreSQL by the poller."""
    from app.workers.broker import container_boot

    broker.get_actor("notify_merchant").send(event_id=str(event_id))
    await join(broker, "webhooks")
    await settle(services or await container_boot(broker).container(), broker, event_id)


async def test_delivery_is_signed_per_standard_webhooks(services, stub_broker, worker, receiver, shop):
    event_id = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED, correlation_id="req-42")
    await notify(stub_broker, event_id)
    [request] = receiver.received
    body = Webhook(shop.webhook_secret).verify(request.body, request.headers)
    assert body["id"] == str(event_id) and body["type"] == "order.status_changed"
    assert body["data"] == STATUS_CHANGED and body["created_at"]
    assert request.headers["webhook-id"] == str(event_id)
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["x-correlation-id"] == "req-42"
    [logged] = await services.webhooks.attempts(event_id)
    assert logged["attempt"] == 1 and logged["status_code"] == 200 and logged["error"] is None
    assert logged["latency_ms"] is not None and logged["url"] == receiver.url


async def test_failures_follow_the_schedule_with_the_same_webhook_id(services, stub_broker, worker, receiver, shop):
    receiver.statuses = [500, 503]  # then 200
    event_id = await add_event("payment.succeeded", shop.merchant.id, {"payment_id": "p1"})
    await notify(stub_broker, event_id)
    assert [r.headers["webhook-id"] for r in receiver.received] == [str(event_id)] * 3
    for request in receiver.received:
        Webhook(shop.webhook_secret).verify(request.body, request.headers)
    log = await services.webhooks.attempts(event_id)
    assert [(row["attempt"], row["status_code"], row["error"]) for row in log] == [
        (1, 500, "HTTP 500"), (2, 503, "HTTP 503"), (3, 200, None)]
    gaps = [(b["created_at"] - a["created_at"]).total_seconds() for a, b in zip(log, log[1:])]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2  # the configured schedule: 0.1 s, 0.2 s
    await notify(stub_broker, event_id)  # relayed again: already delivered, nothing sent
    assert len(receiver.received) == 3


async def test_unreachable_endpoint_is_logged_then_dead_lettered(services, stub_broker, worker, container):
    async with WebhookReceiver() as gone:
        url = gone.url  # closed below: connections are refused
    created = await webhook_merchant(container, url)
    event_id = await add_event("refund.failed", created.merchant.id, {"refund_id": "r1"})
    await notify(stub_broker, event_id)
    log = await services.webhooks.attempts(event_id)
    assert [row["attempt"] for row in log] == [1, 2, 3]  # 1 + the two scheduled retries
    assert all(row["status_code"] is None and "ConnectError" in row["error"] for row in log)
    [dead] = await services.dead_letters.list()
    assert dead.actor == "notify_merchant" and dead.kwargs["event_id"] == str(event_id)
    job = await services.webhook_schedule.status(event_id)
    assert job["status"] == "dead" and job["attempt"] == 3 and "ConnectError" in job["last_error"]


async def test_gone_disables_the_endpoint_and_stops(services, stub_broker, worker, receiver, shop):
    receiver.statuses = [410]
    first = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED)
    await notify(stub_broker, first)
    assert len(receiver.received) == 1
    enabled = await MerchantTable.select(MerchantTable.webhook_enabled).where(
        MerchantTable.id == shop.merchant.id).first().run()
    assert enabled["webhook_enabled"] is False
    later = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED)
    await notify(stub_broker, later)
    assert len(receiver.received) == 1 and not stub_broker.dead_letters


async def test_private_targets_are_refused_unless_allowed(services, receiver, shop):
    strict = StandardWebhookSender(timeout_s=2, guard=WebhookTargetGuard(""))
    from app.domain.services.notifications import NotificationService

    service = NotificationService(services.webhooks, strict, services.notifications._retries, [0.1])
    event_id = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED)
    assert await service.deliver(event_id) is DeliveryOutcome.REFUSED
    assert receiver.received == []
    [logged] = await services.webhooks.attempts(event_id)
    assert logged["status_code"] is None and "non-public address (127.0.0.1)" in logged["error"]


async def test_the_sender_connects_to_the_address_it_checked(receiver):
    """A name no DNS knows, resolved once by the guard to the (allowlisted) receiver: the
    request reaches it, so the connection used the pinned address, under the original name."""
    lookups: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    sender = StandardWebhookSender(2, WebhookTargetGuard(f"127.0.0.1:{receiver.port}", resolver))
    try:
        url = f"http://merchant-receiver.invalid:{receiver.port}/webhooks"
        response = await sender.send(url, "whsec_" + "A" * 32, "evt_1", {"type": "ping"}, None)
    finally:
        await sender.aclose()
    assert response.status_code == 200 and lookups == ["merchant-receiver.invalid"]
    assert receiver.received[0].headers["host"] == f"merchant-receiver.invalid:{receiver.port}"


async def test_credentials_in_a_stored_url_are_neither_sent_nor_logged(services, receiver, container):
    shop = await webhook_merchant(container, receiver.url)
    leaky = receiver.url.replace("http://", "http://alice:s3cret@")
    await MerchantTable.update({MerchantTable.webhook_url: leaky}).where(MerchantTable.id == shop.merchant.id).run()
    event_id = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED)
    await services.notifications.deliver(event_id)
    assert receiver.received == []
    [logged] = await services.webhooks.attempts(event_id)
    assert "s3cret" not in logged["url"] and "s3cret" not in (logged["error"] or "")


async def test_admin_resend_delivers_again_with_the_same_id(services, stub_broker, worker, receiver, shop, admin):
    event_id = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED)
    await notify(stub_broker, event_id)
    response = await admin.post(f"/admin/webhooks/{event_id}/resend")
    assert response.status_code == 202, response.text
    await settle(services, stub_broker, event_id)
    assert [r.headers["webhook-id"] for r in receiver.received] == [str(event_id)] * 2
    assert json.loads(receiver.received[1].body)["id"] == str(event_id)
    missing = await admin.post(f"/admin/webhooks/{uuid.uuid4()}/resend")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


async def test_an_unusable_secret_is_logged_not_retried(services, stub_broker, worker, receiver, shop):
    await MerchantTable.update({MerchantTable.webhook_secret: "whsec_abcde"}).where(  # 5 base64 chars: invalid
        MerchantTable.id == shop.merchant.id).run()
    event_id = await add_event("order.status_changed", shop.merchant.id, STATUS_CHANGED)
    await notify(stub_broker, event_id)
    assert receiver.received == [] and not stub_broker.dead_letters
    [logged] = await services.webhooks.attempts(event_id)
    assert logged["error"].startswith("unusable webhook secret")

"""Shopper notifications with the workers: the relay records each delivery as a job in
PostgreSQL (nothing a broker could lose), the poller wakes it with a lease token and the
actor sends it to a real SMTP server and the SMS sink; a wake-up lost with Redis is sent
again after its lease; a dead delivery lands in the dead letters and an admin replays it."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import msgspec
import pytest

from app.adapters.notify.notification_jobs import PiccoloNotificationJobs
from app.adapters.notify.sms import TwilioSmsSender
from app.adapters.notify.smtp import SmtpEmailSender
from app.domain.model.notification import Channel, NotificationPreferences
from app.domain.model.order import Customer
from app.domain.model.pricing import RequestedItem
from app.domain.services.orders import NewOrder
from app.entrypoints.dev_sinks import CaughtMessages, create_sms_sink
from tests.integration.notifications.conftest import SID, TOKEN, shopper_event
from tests.integration.notifications.smtp_servers import smtp_sink
from tests.workers.conftest import join, worker_container_on
from tests.workers.test_webhook_schedule import LosingPublisher

SINKS: dict[str, CaughtMessages] = {}


@pytest.fixture
async def services(container, worker_settings, stub_broker):
    """The workers' Container, its notifications going to an aiosmtpd server and the SMS sink."""
    n = msgspec.structs.replace(worker_settings.notifications, retry_schedule="0.05,0.1")
    settings = msgspec.structs.replace(worker_settings, notifications=n)
    texts = CaughtMessages()
    with smtp_sink() as (port, caught):
        senders = {Channel.EMAIL: SmtpEmailSender("127.0.0.1", port, "shop@example.com", security="none"),
                   Channel.SMS: TwilioSmsSender(SID, TOKEN, "+15005550006", base_url="http://sms.test",
                                                transport=httpx.ASGITransport(app=create_sms_sink(texts, SID, TOKEN)))}
        from app.bootstrap import build_container
        from app.workers.broker import container_boot

        built = build_container(settings, broker=stub_broker, engine=container.engine, redis=container.redis,
                                providers=container.providers, message_senders=senders)
        container_boot(stub_broker).use(built)
        SINKS.update(email=caught, sms=texts)
        yield built
        await built.sender.aclose()
        await senders[Channel.SMS].aclose()  # type: ignore[attr-defined]


async def guest_order(services, email: str = "guest@example.com"):
    merchant = await services.merchants.create("Notifying shop")
    await services.notification_preferences._store.put(merchant.merchant.id, None, NotificationPreferences.build(
        {"order_cancelled": ["email", "sms"]}))
    order = await services.orders.create(merchant.merchant.id, NewOrder(
        None, "USD", [RequestedItem(1, name="Mug", unit_amount_minor=2500)],
        Customer(email, "Ada", "+14155550100")))
    return merchant.merchant.id, order


async def settle(services, broker, event_id: uuid.UUID, timeout_s: float = 10.0) -> list[dict]:
    """Run the poller (what the periodic tick does) until the event's deliveries are over."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        await services.notification_jobs.wake_due(services.publisher)
        await join(broker, "notifications")
        rows = await services.notification_jobs.deliveries(event_id)
        if rows and all(row["status"] != "pending" for row in rows):
            return rows
        assert asyncio.get_running_loop().time() < deadline, f"still pending: {rows}"
        await asyncio.sleep(0.05)


async def test_the_relay_records_jobs_and_the_poller_sends_them_once(services, stub_broker, worker, quiet_outbox):
    merchant_id, order = await guest_order(services)
    paid = await shopper_event("order.status_changed", merchant_id, order.id, status="ORDER_CANCELLED")
    assert await services.relay.drain() >= 1
    assert stub_broker.queues["notifications"].qsize() == 0  # jobs, not messages
    assert [r["status"] for r in await services.notification_jobs.deliveries(paid)] == ["pending", "pending"]
    rows = await settle(services, stub_broker, paid)
    assert [(r["channel"], r["status"], r["attempts"]) for r in rows] == [("email", "delivered", 1),
                                                                           ("sms", "delivered", 1)]
    assert [m["to"] for m in SINKS["email"].list()] == [["guest@example.com"]]
    assert [m["to"] for m in SINKS["sms"].list()] == [["+14155550100"]]
    assert await services.notification_jobs.wake_due(services.publisher) == 0  # nothing left to wake
    await join(stub_broker, "notifications")
    assert len(SINKS["email"].list()) == 1 and len(SINKS["sms"].list()) == 1


async def test_a_lost_wake_up_is_sent_again_after_its_lease(services, stub_broker, worker, container):
    merchant_id, order = await guest_order(services)
    paid = await shopper_event("order.status_changed", merchant_id, order.id, status="ORDER_CANCELLED")
    jobs = PiccoloNotificationJobs(container.engine, frozenset(Channel), lease_s=0.3, send_timeout_s=0)
    async with container.engine.transaction() as transaction:
        await jobs.enlist(transaction.connection, [(paid, merchant_id)])
    lost = LosingPublisher()
    assert await jobs.wake_due(lost) == 2
    assert await jobs.wake_due(lost) == 0  # leased: not woken twice while it may be in flight
    await asyncio.sleep(0.35)  # the lease runs out: these wake-ups are presumed lost
    assert await jobs.wake_due(lost) == 2
    stale = lost.sent[0]
    assert await services.customer_notifications.deliver(uuid.UUID(stale["delivery_id"]), stale["lease"]) == \
        "not_claimed"
    await asyncio.sleep(0.35)
    rows = await settle(services, stub_broker, paid)  # the real poller and actor finish the jobs
    assert [r["status"] for r in rows] == ["delivered", "delivered"]
    assert len(SINKS["email"].list()) == 1 and len(SINKS["sms"].list()) == 1


async def test_a_dead_delivery_is_dead_lettered_and_an_admin_replays_it(services, stub_broker, worker, admin,
                                                                        quiet_outbox):
    merchant_id, order = await guest_order(services, email="nobody@example.com")  # 550: refused for good
    paid = await shopper_event("order.status_changed", merchant_id, order.id, status="ORDER_CANCELLED")
    await services.relay.drain()
    rows = await settle(services, stub_broker, paid)
    assert {(r["channel"], r["status"]) for r in rows} == {("email", "dead"), ("sms", "delivered")}
    letters = (await admin.get("/admin/dead-letters")).json()["data"]
    (letter,) = [d for d in letters if d["actor"] == "send_notification"]
    assert letter["queue"] == "notifications" and letter["kwargs"]["lease"]
    replayed = await admin.post(f"/admin/dead-letters/{letter['message_id']}/replay")
    assert replayed.status_code == 202
    await join(stub_broker, "notifications")
    email = next(r for r in await services.notification_jobs.deliveries(paid) if r["channel"] == "email")
    assert email["status"] == "dead" and email["attempts"] == 2  # tried again (and refused again)
    assert len(SINKS["sms"].list()) == 1  # the delivered SMS was not sent again

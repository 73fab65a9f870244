"""Shopper notifications on PostgreSQL with real sinks: who gets what by preferences,
exactly one message per (event, channel, recipient) under concurrent duplicates, every
attempt logged, failures retried then dead."""

from __future__ import annotations

import asyncio
import uuid

from app.domain.model.notification import NotificationPreferences
from app.domain.model.order import Customer
from app.domain.model.pricing import RequestedItem
from app.domain.ports_notifications import NotificationOutcome
from app.domain.services.orders import NewOrder
from tests.integration.notifications.conftest import shopper_event

ITEMS = [RequestedItem(2, name="Mug", unit_amount_minor=1250)]


async def guest_order(container, merchant_id, email="guest@example.com", phone="+14155550100", reference=None):
    order = await container.orders.create(uuid.UUID(merchant_id), NewOrder(
        None, "USD", ITEMS, Customer(email, "Ada Guest", phone), reference or f"ref-{uuid.uuid4().hex[:8]}"))
    return order


async def test_a_guest_gets_what_the_merchant_chose_at_the_orders_addresses(notifying, merchant):
    c = notifying.container
    await c.notification_preferences._store.put(uuid.UUID(merchant.id), None, NotificationPreferences.build(
        {"payment_receipt": ["email", "sms"], "payment_failed": []}))
    order = await guest_order(c, merchant.id)
    paid = await shopper_event("payment.succeeded", merchant.id, order.id, amount=2500, currency="USD")
    failed = await shopper_event("payment.failed", merchant.id, order.id, failure_code="card_declined")
    assert sorted(await c.customer_notifications.notify_event(paid)) == [NotificationOutcome.DELIVERED] * 2
    assert await c.customer_notifications.notify_event(failed) == []  # switched off: nothing planned
    (mail,) = notifying.caught.list()
    assert mail["to"] == ["guest@example.com"] and "25.00 USD" in mail["subject"]
    assert "2 x Mug" in mail["text"] and order.merchant_reference in mail["text"]
    (text,) = notifying.texts.list()
    assert text["to"] == ["+14155550100"] and "25.00 USD" in text["text"]
    rows = await c.notification_jobs.deliveries(paid)
    assert [(r["channel"], r["status"], r["attempts"]) for r in rows] == [("email", "delivered", 1),
                                                                           ("sms", "delivered", 1)]
    assert rows[1]["provider_message_id"] == text["sid"]


async def test_a_users_order_follows_the_users_choice(notifying, merchant):
    c = notifying.container
    session = await c.accounts.register(uuid.UUID(merchant.id), f"u{uuid.uuid4().hex[:8]}@example.com",
                                        "correct horse battery", "127.0.0.1")
    user = session.user
    await c.notification_preferences._store.put(uuid.UUID(merchant.id), user.id, NotificationPreferences.build(
        {"fulfillment_started": ["sms"]}, phone="+447700900123"))
    order = await c.orders.create(uuid.UUID(merchant.id), NewOrder(None, "USD", ITEMS, Customer()), user_id=user.id)
    shipped = await shopper_event("order.fulfillment_started", merchant.id, order.id, estimated_delivery="2026-12-04")
    receipt = await shopper_event("payment.succeeded", merchant.id, order.id, amount=2500, currency="USD")
    await c.customer_notifications.notify_event(shipped)
    await c.customer_notifications.notify_event(receipt)
    (text,) = notifying.texts.list()
    assert text["to"] == ["+447700900123"] and "Friday 4 December 2026" in text["text"]
    (mail,) = notifying.caught.list()  # the receipt: email is still on by default, to the account's address
    assert mail["to"] == [user.email] and "receipt" in mail["text"]


async def test_concurrent_duplicates_send_exactly_once(notifying, merchant):
    c = notifying.container
    await c.notification_preferences._store.put(uuid.UUID(merchant.id), None, NotificationPreferences.build(
        {"order_cancelled": ["email", "sms"]}))
    order = await guest_order(c, merchant.id)
    cancelled = await shopper_event("order.status_changed", merchant.id, order.id, status="ORDER_CANCELLED",
                                    previous_status="PAYMENT_DONE")

    async def relay_enlists() -> None:  # a relay planning the same event in its own transaction
        async with c.engine.transaction() as transaction:
            await c.notification_jobs.enlist(transaction.connection, [(cancelled, uuid.UUID(merchant.id))])

    runs = await asyncio.gather(*[c.customer_notifications.notify_event(cancelled) for _ in range(8)],
                                *[relay_enlists() for _ in range(4)])
    outcomes = [o for run in runs if run for o in run]
    assert outcomes.count(NotificationOutcome.DELIVERED) == 2
    assert len(notifying.caught.list()) == 1 and len(notifying.texts.list()) == 1
    assert "refunded" in notifying.caught.list()[0]["text"]
    rows = await c.notification_jobs.deliveries(cancelled)
    assert [(r["status"], r["attempts"]) for r in rows] == [("delivered", 1), ("delivered", 1)]


async def test_a_refusing_server_is_retried_on_the_schedule_then_dead(notifying, merchant):
    c = notifying.container
    order = await guest_order(c, merchant.id, email="later@example.com")
    refund = await shopper_event("refund.succeeded", merchant.id, order.id, amount=1000, currency="USD")
    assert await c.customer_notifications.notify_event(refund) == [NotificationOutcome.RETRY_SCHEDULED]
    for _ in range(100):  # the in-process retries (0.05 s, then 0.1 s)
        (row,) = await c.notification_jobs.deliveries(refund)
        if row["status"] != "pending":
            break
        await asyncio.sleep(0.05)
    assert row["status"] == "dead" and row["attempts"] == 3 and "451" in row["last_error"]
    assert notifying.caught.list() == []


async def test_a_mailbox_refused_for_good_is_dead_at_once(notifying, merchant):
    c = notifying.container
    order = await guest_order(c, merchant.id, email="nobody@example.com")
    receipt = await shopper_event("payment.succeeded", merchant.id, order.id, amount=2500, currency="USD")
    assert await c.customer_notifications.notify_event(receipt) == [NotificationOutcome.DEAD]
    (row,) = await c.notification_jobs.deliveries(receipt)
    assert row["status"] == "dead" and row["attempts"] == 1 and "550" in row["last_error"]

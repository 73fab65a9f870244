"""Shopper notification attempts are audited (notification_sent, action = the channel, no
recipient) in the transaction that logs them, and counted by channel and outcome."""

from __future__ import annotations

import uuid

import msgspec
from prometheus_client import REGISTRY

from app.domain.model.notification import NotificationPreferences
from app.domain.ports_notifications import NotificationOutcome
from tests.integration.notifications.conftest import shopper_event
from tests.integration.notifications.test_delivery_jobs import guest_order


def sent(channel: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("fxp_notification_deliveries_total",
                                     {"channel": channel, "outcome": outcome}) or 0.0


async def test_deliveries_and_refusals_are_audited_and_counted(notifying, merchant):
    c = notifying.container
    await c.notification_preferences._store.put(uuid.UUID(merchant.id), None, NotificationPreferences.build(
        {"payment_receipt": ["email", "sms"]}))
    delivered_mail, delivered_sms, dead_mail = sent("email", "delivered"), sent("sms", "delivered"), sent("email", "dead")
    order = await guest_order(c, merchant.id)
    paid = await shopper_event("payment.succeeded", merchant.id, order.id, amount=2500, currency="USD")
    assert sorted(await c.customer_notifications.notify_event(paid)) == [NotificationOutcome.DELIVERED] * 2
    refused_order = await guest_order(c, merchant.id, email="nobody@example.com", phone=None)
    refused = await shopper_event("payment.succeeded", merchant.id, refused_order.id, amount=2500, currency="USD")
    assert await c.customer_notifications.notify_event(refused) == [NotificationOutcome.DEAD]

    assert (sent("email", "delivered"), sent("sms", "delivered"), sent("email", "dead")) == (
        delivered_mail + 1, delivered_sms + 1, dead_mail + 1)
    async with c.engine.transaction() as tx:
        rows = await tx.connection.fetch(
            "SELECT action, status, error_code, entities FROM audit_log WHERE event_type = 'notification_sent' "
            "AND (entities @> $1::jsonb OR entities @> $2::jsonb) ORDER BY action, occurred_at",
            msgspec.json.encode({"event": str(paid)}).decode(), msgspec.json.encode({"event": str(refused)}).decode())
    found = [(r["action"], r["status"], r["error_code"]) for r in rows]
    assert sorted(found, key=str) == sorted([("email", "success", None), ("sms", "success", None),
                                             ("email", "failed", "send_refused")], key=str)
    entities = [msgspec.json.decode(r["entities"]) if isinstance(r["entities"], str) else r["entities"] for r in rows]
    assert all(e["order"] in (str(order.id), str(refused_order.id)) and "recipient" not in e for e in entities)
    assert not any("example.com" in str(e) or "+1415" in str(e) for e in entities)

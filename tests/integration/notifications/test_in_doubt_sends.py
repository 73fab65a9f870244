"""A worker that dies after the SMTP or SMS server accepted a message but before the job
was settled, on PostgreSQL with the real sinks: once its lease runs out the next senders
(several at once) do not send the SMS again (the sink's Twilio-shaped list is asked and
has it), and resend the email once, with the same Message-ID (the sink marks the copy)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.domain.model.notification import Channel, NotificationPreferences
from app.domain.ports_notifications import NotificationOutcome
from tests.integration.notifications.conftest import shopper_event
from tests.integration.notifications.test_delivery_jobs import guest_order


class WorkerDied(Exception):
    pass


class DiesAfterSending:
    """The transport, then the worker's death before anything is settled."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def __getattr__(self, name):  # digest/find when the transport has them (MessageLookup)
        return getattr(self._inner, name)

    async def send(self, recipient, message, message_key):
        await self._inner.send(recipient, message, message_key)
        raise WorkerDied()


async def expire_leases(container, event_id: uuid.UUID) -> None:
    async with container.engine.transaction() as tx:
        await tx.connection.execute("UPDATE notification_deliveries SET leased_until = now() - interval '1 second'"
                                    " WHERE event_id = $1", event_id)


async def sending_marks(container, event_id: uuid.UUID) -> dict[str, tuple]:
    async with container.engine.transaction() as tx:
        rows = await tx.connection.fetch("SELECT channel, status, sending_since, sending_digest"
                                         " FROM notification_deliveries WHERE event_id = $1", event_id)
    return {r["channel"]: (r["status"], r["sending_since"] is not None, r["sending_digest"] is not None) for r in rows}


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.EMAIL])
async def test_a_send_cut_off_by_a_dying_worker_is_not_sent_blind(notifying, merchant, channel):
    c = notifying.container
    await c.notification_preferences._store.put(uuid.UUID(merchant.id), None, NotificationPreferences.build(
        {"payment_receipt": [channel.value]}))
    order = await guest_order(c, merchant.id)
    paid = await shopper_event("payment.succeeded", merchant.id, order.id, amount=2500, currency="USD")
    service = c.customer_notifications
    real = service._senders[channel]
    service._senders[channel] = DiesAfterSending(real)
    try:
        with pytest.raises(WorkerDied):
            await service.notify_event(paid)
    finally:
        service._senders[channel] = real
    assert (await sending_marks(c, paid))[channel.value] == ("pending", True, True)  # in doubt

    await expire_leases(c, paid)
    [delivery_id] = [r["id"] for r in await c.notification_jobs.deliveries(paid)]
    outcomes = await asyncio.gather(*[service.deliver(delivery_id) for _ in range(4)])
    assert sorted(outcomes) == sorted([NotificationOutcome.DELIVERED] + [NotificationOutcome.NOT_CLAIMED] * 3)
    assert (await sending_marks(c, paid))[channel.value] == ("delivered", False, False)
    [row] = await c.notification_jobs.deliveries(paid)
    if channel is Channel.SMS:
        [text] = notifying.texts.list()  # sent once: the look-up found it
        assert row["provider_message_id"] == text["sid"] and "already had it" in row["last_error"]
    else:
        copy, first = notifying.caught.list()  # resent once, recognisably the same message
        assert copy["message_id"] == first["message_id"] == f"<{delivery_id}@fusionxpay>"
        assert copy.get("duplicate") is True and "duplicate" not in first

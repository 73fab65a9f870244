"""Shopper email and SMS. A delivery is a job in PostgreSQL (notification_deliveries); a
`send_notification` message is a wake-up naming the job's lease token, and only the
wake-up holding the current token may send. Failures follow the notification schedule
(the job's due time moves; the poller wakes it); Dramatiq's own retries only cover our
side failing. A delivery refused for good or out of attempts is dead: dead-lettered,
where an admin sees it and can replay it (a fresh round of attempts)."""

from __future__ import annotations

import uuid

from dramatiq.middleware import CurrentMessage

from app.bootstrap import Container
from app.domain.ports_notifications import NotificationOutcome


class NotificationDead(Exception):
    """Refused for good, or every attempt on the schedule failed."""


def _replayed() -> bool:
    message = CurrentMessage.get_current_message()
    return bool(message and message.options.get("replays"))


async def notify_customer(container: Container, event_id: str) -> None:
    """Plan an event's deliveries and send them now: a message sent without the durable
    wiring (the relay records jobs instead, woken by send_notification)."""
    outcomes = await container.consumers.notify_customer(event_id)
    if NotificationOutcome.DEAD in outcomes:
        raise NotificationDead(f"a notification of event {event_id} is dead")


async def send_notification(container: Container, delivery_id: str, lease: str | None = None) -> None:
    """One attempt of one delivery, if this wake-up still holds its lease."""
    if _replayed():  # an admin replaying a dead letter: a fresh round of attempts, due now
        outcome = await container.customer_notifications.replay(uuid.UUID(delivery_id))
    else:
        outcome = await container.consumers.send_notification(delivery_id, lease)
    if outcome is NotificationOutcome.DEAD:
        raise NotificationDead(f"notification {delivery_id} is dead (see notification_attempts)")

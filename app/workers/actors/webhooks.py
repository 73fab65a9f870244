"""Merchant webhook delivery. The delivery is a job in PostgreSQL (webhook_schedule); a
message is a wake-up naming the job's lease token, and only the wake-up holding the
current token may send. HTTP failures follow the webhook schedule (the use case moves the
job's due time; the poller wakes it); Dramatiq's own retries only cover our side failing.
A webhook that exhausted its schedule is marked dead in the job and dead-lettered, where
an admin sees it and can replay it."""

from __future__ import annotations

import uuid

from dramatiq.middleware import CurrentMessage

from app.bootstrap import Container
from app.domain.services.notifications import DeliveryOutcome


class WebhookGaveUp(Exception):
    """Every attempt on the schedule failed."""


def _replayed() -> bool:
    message = CurrentMessage.get_current_message()
    return bool(message and message.options.get("replays"))


async def notify_merchant(container: Container, event_id: str, attempt: int = 1, resend: bool = False,
                          lease: str | None = None) -> None:
    """Deliver one event to its merchant's webhook endpoint: the wake-up of a job holding
    `lease`, or a message without one (sent before jobs existed, or by a test), which is
    delivered now; a failure goes on the durable schedule either way."""
    event, jobs = uuid.UUID(event_id), container.webhook_schedule
    if _replayed():  # an admin replaying a dead letter: a fresh schedule, due now
        await jobs.schedule(event, 1, 0.0, resend=resend)
        return
    if lease is not None:
        claimed = await jobs.claim(event, lease)
        if claimed is None:
            return  # a duplicate or stale wake-up: the job has moved on
        attempt, resend = claimed.attempt, claimed.resend
    outcome = await container.consumers.notify_merchant(event_id, attempt, resend)
    if lease is not None and outcome is not DeliveryOutcome.RETRY_SCHEDULED:
        await jobs.close(event, outcome)  # (a message without a lease has no job to close)
    if outcome is DeliveryOutcome.GAVE_UP:
        raise WebhookGaveUp(f"webhook {event_id} failed {attempt} times")

"""Merchant webhook delivery. HTTP failures follow the webhook schedule (the use case
sends the next attempt as a delayed message); Dramatiq's own retries only cover our side
failing (database, broker). A webhook that exhausted its schedule is dead-lettered, where
an admin sees it and can replay it."""

from __future__ import annotations

from app.bootstrap import Container
from app.domain.services.notifications import DeliveryOutcome


class WebhookGaveUp(Exception):
    """Every attempt on the schedule failed."""


async def notify_merchant(container: Container, event_id: str, attempt: int = 1, resend: bool = False) -> None:
    """Deliver one event to its merchant's webhook endpoint (attempt `attempt`)."""
    outcome = await container.consumers.notify_merchant(event_id, attempt, resend)
    if outcome is DeliveryOutcome.GAVE_UP:
        raise WebhookGaveUp(f"webhook {event_id} failed {attempt} times")

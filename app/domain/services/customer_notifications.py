"""Email and SMS to shoppers: each committed event of a notified category becomes one
delivery per (channel, recipient) the preferences allow, a durable job sent at most once
by whoever holds its lease; failures are retried on a schedule (a server's Retry-After
first), permanent refusals and exhausted schedules end dead (dead letters, admin replay)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from app.domain.model.notification import Channel
from app.domain.ports_notifications import (
    Delivery, MessageFacts, MessageRenderer, MessageSender, NotificationJobs, NotificationOutcome,
    NotificationRetries, SendResult,
)


class CustomerNotifications:
    def __init__(self, jobs: NotificationJobs, facts: MessageFacts, renderer: MessageRenderer,
                 senders: Mapping[Channel, MessageSender], retries: NotificationRetries,
                 schedule_s: Sequence[float], max_retry_after_s: float = 86_400.0) -> None:
        self._jobs, self._facts, self._renderer, self._retries = jobs, facts, renderer, retries
        self._senders = dict(senders)
        self._schedule = tuple(schedule_s)  # delay before attempt 2, 3, ...
        self._max_retry_after_s = max_retry_after_s

    @property
    def channels(self) -> frozenset[Channel]:
        """The channels with a transport configured (the others are never planned)."""
        return frozenset(self._senders)

    async def notify_event(self, event_id: uuid.UUID) -> list[NotificationOutcome]:
        """Plan the event's deliveries and send those due now (without workers, or a message
        sent before jobs existed); with workers the relay plans and the poller wakes."""
        if not self._senders:
            return []
        return [await self.deliver(delivery_id) for delivery_id in await self._jobs.plan(event_id)]

    async def deliver(self, delivery_id: uuid.UUID, lease: str | None = None) -> NotificationOutcome:
        """One attempt of one delivery, if it is ours to send."""
        delivery = await self._jobs.claim(delivery_id, lease)
        if delivery is None:
            return NotificationOutcome.NOT_CLAIMED
        sender = self._senders.get(delivery.channel)
        facts = await self._facts.facts(delivery)
        if sender is None or facts is None:
            why = "order not found" if facts is None else f"no {delivery.channel} transport configured"
            await self._jobs.settle(delivery, SendResult(False, 0, error=why, permanent=True), NotificationOutcome.DEAD)
            return NotificationOutcome.DEAD
        message = self._renderer.render(delivery.category, delivery.channel, facts)
        result = await sender.send(delivery.recipient, message, str(delivery.id))
        return await self._after(delivery, result)

    async def _after(self, delivery: Delivery, result: SendResult) -> NotificationOutcome:
        if result.ok:
            await self._jobs.settle(delivery, result, NotificationOutcome.DELIVERED)
            return NotificationOutcome.DELIVERED
        if result.permanent or delivery.attempt > len(self._schedule):
            await self._jobs.settle(delivery, result, NotificationOutcome.DEAD)
            return NotificationOutcome.DEAD
        delay = self._schedule[delivery.attempt - 1]
        if result.retry_after_s is not None:  # the server knows best when it can take more
            delay = min(max(result.retry_after_s, 0.0), self._max_retry_after_s)
        await self._jobs.settle(delivery, result, NotificationOutcome.RETRY_SCHEDULED, delay)
        await self._retries.schedule(delivery.id, delay)
        return NotificationOutcome.RETRY_SCHEDULED

    async def replay(self, delivery_id: uuid.UUID) -> NotificationOutcome:
        """A dead delivery tried again from its first attempt (admin replaying a dead letter)."""
        await self._jobs.reopen(delivery_id)
        return await self.deliver(delivery_id)

"""Email and SMS to shoppers: each committed event of a notified category becomes one
delivery per (channel, recipient) the preferences allow, a durable job sent at most once
by whoever holds its lease; failures are retried on a schedule (a server's Retry-After
first), permanent refusals and exhausted schedules end dead (dead letters, admin replay).

Sent at most once, as far as the protocols allow: right before a message is handed over
the job records that a send is in flight (`begin_send`, with the message's digest). A
sender that dies after the server accepted the message but before settling leaves the
job in doubt; when its lease runs out the next sender asks the provider whether it holds
the message (MessageLookup: SMS) and settles it delivered if so. SMTP has no such
question: an in-doubt email is sent again with the same Message-ID (receivers may drop
the duplicate; `in_doubt="resend"`, at least once) or held dead for an operator
(`in_doubt="hold"`, at most once)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence

from app.domain.model.notification import Channel
from app.domain.ports_notifications import (
    Delivery, MessageFacts, MessageLookup, MessageRenderer, MessageSender, NotificationJobs, NotificationOutcome,
    NotificationRetries, RenderedMessage, SendResult,
)

IN_DOUBT_POLICIES = ("resend", "hold")


def message_digest(recipient: str, message: RenderedMessage) -> str:
    """What was sent, for transports without a look-up (kept for operators)."""
    return hashlib.sha256(f"{recipient}\n{message.subject}\n{message.text}".encode()).hexdigest()


class CustomerNotifications:
    def __init__(self, jobs: NotificationJobs, facts: MessageFacts, renderer: MessageRenderer,
                 senders: Mapping[Channel, MessageSender], retries: NotificationRetries,
                 schedule_s: Sequence[float], max_retry_after_s: float = 86_400.0, in_doubt: str = "resend") -> None:
        if in_doubt not in IN_DOUBT_POLICIES:
            raise ValueError(f"in_doubt must be one of {', '.join(IN_DOUBT_POLICIES)}, not {in_doubt!r}")
        self._in_doubt = in_doubt
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
        if delivery.in_doubt_since is not None and (resolved := await self._resolve_doubt(delivery, sender)):
            return resolved
        message = self._renderer.render(delivery.category, delivery.channel, facts)
        lookup = sender if isinstance(sender, MessageLookup) else None
        digest = lookup.digest(delivery.recipient, message) if lookup else message_digest(delivery.recipient, message)
        if not await self._jobs.begin_send(delivery, digest):
            return NotificationOutcome.NOT_CLAIMED  # the lease ran out meanwhile: another sender has it
        result = await sender.send(delivery.recipient, message, str(delivery.id))
        return await self._after(delivery, result, keep_doubt=result.unknown)

    async def _resolve_doubt(self, delivery: Delivery, sender: MessageSender) -> NotificationOutcome | None:
        """An earlier send may have gone out: settle it from what the provider holds, or hold
        it; None when it is to be sent (now known not sent, or the policy resends)."""
        assert delivery.in_doubt_since is not None
        if isinstance(sender, MessageLookup) and delivery.sent_digest:
            found = await sender.find(delivery.recipient, delivery.sent_digest, delivery.in_doubt_since)
            if found is None:
                return None  # the provider never got it: sending now is the first copy
            if found.ok:
                note = "in doubt: the provider already had it; not sent again"
                await self._jobs.settle(delivery, SendResult(True, found.latency_ms, found.provider_message_id, note),
                                        NotificationOutcome.DELIVERED)
                return NotificationOutcome.DELIVERED
            # The look-up failed: ask again later, never send blind.
            return await self._after(delivery, found, keep_doubt=True)
        if self._in_doubt == "hold":
            held = SendResult(False, 0, error="in doubt: a send was cut off after the message may have been "
                                              "accepted; held for an operator (replay sends it again)", permanent=True)
            await self._jobs.settle(delivery, held, NotificationOutcome.DEAD)
            return NotificationOutcome.DEAD
        return None  # resend: the same message key (email: Message-ID) lets receivers drop a copy

    async def _after(self, delivery: Delivery, result: SendResult, keep_doubt: bool = False) -> NotificationOutcome:
        if result.ok:
            await self._jobs.settle(delivery, result, NotificationOutcome.DELIVERED)
            return NotificationOutcome.DELIVERED
        if result.permanent or delivery.attempt > len(self._schedule):
            await self._jobs.settle(delivery, result, NotificationOutcome.DEAD)
            return NotificationOutcome.DEAD
        delay = self._schedule[delivery.attempt - 1]
        if result.retry_after_s is not None:  # the server knows best when it can take more
            delay = min(max(result.retry_after_s, 0.0), self._max_retry_after_s)
        await self._jobs.settle(delivery, result, NotificationOutcome.RETRY_SCHEDULED, delay, keep_doubt=keep_doubt)
        await self._retries.schedule(delivery.id, delay)
        return NotificationOutcome.RETRY_SCHEDULED

    async def replay(self, delivery_id: uuid.UUID) -> NotificationOutcome:
        """A dead delivery tried again from its first attempt (admin replaying a dead letter)."""
        await self._jobs.reopen(delivery_id)
        return await self.deliver(delivery_id)

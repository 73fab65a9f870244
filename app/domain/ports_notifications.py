"""Ports of shopper notifications: the durable delivery jobs, what the templates show,
rendering, the channel transports (SMTP, SMS provider) and preferences."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from app.domain.model.notification import Category, Channel, NotificationPreferences


@dataclass(frozen=True, slots=True)
class Delivery:
    """One claimed delivery: the sender holding `lease_token` may send it, once."""

    id: uuid.UUID
    event_id: uuid.UUID
    merchant_id: uuid.UUID
    order_id: uuid.UUID
    category: Category
    channel: Channel
    recipient: str
    attempt: int
    lease_token: str
    # Set when an earlier sender began sending and never settled (it died, or got no
    # answer): the message may have been accepted. `sent_digest` identifies what it sent.
    in_doubt_since: datetime | None = None
    sent_digest: str | None = None


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str
    text: str
    html: str | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    latency_ms: int
    provider_message_id: str | None = None
    error: str | None = None
    permanent: bool = False  # the server refused for good (bad address, 4xx): retrying cannot help
    retry_after_s: float | None = None  # the server said when to come back (429 Retry-After)
    # No answer after the message went out (a timeout or a dropped connection mid-request):
    # the server may have accepted it, so the next attempt treats the delivery as in doubt.
    unknown: bool = False


class NotificationOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRY_SCHEDULED = "retry_scheduled"
    DEAD = "dead"  # permanent refusal or retries exhausted: dead letters, admin replay
    NOT_CLAIMED = "not_claimed"  # delivered already, not due, or another sender holds it


class NotificationJobs(Protocol):
    """Deliveries as durable jobs, unique per (event, channel, recipient)."""

    async def plan(self, event_id: uuid.UUID) -> list[uuid.UUID]:
        """Make the deliveries of one committed event (nothing new if they exist); the ids
        of its deliveries still pending."""

    async def claim(self, delivery_id: uuid.UUID, lease: str | None) -> Delivery | None:
        """Take a pending delivery: the one a wake-up holding `lease` names, or (lease None)
        one that is due and held by nobody. None: not ours to send."""

    async def begin_send(self, delivery: Delivery, digest: str) -> bool:
        """Record that the message identified by `digest` is about to be handed over (the
        delivery becomes in doubt until settled); False if the lease no longer holds it."""

    async def settle(self, delivery: Delivery, result: SendResult, outcome: NotificationOutcome,
                     delay_s: float | None = None, keep_doubt: bool = False) -> None:
        """Log the attempt and move the job (delivered, due again after `delay_s`, dead), in
        one transaction, if `delivery`'s lease still holds it. The in-doubt mark is cleared
        unless `keep_doubt` (the attempt did not learn whether the message went out)."""

    async def reopen(self, delivery_id: uuid.UUID) -> None:
        """A dead delivery gets a fresh round of attempts, due now (admin replay)."""


class NotificationRetries(Protocol):
    async def schedule(self, delivery_id: uuid.UUID, delay_s: float) -> None:
        """Make sure something wakes the delivery after `delay_s` (workers: the poller does)."""


class MessageFacts(Protocol):
    async def facts(self, delivery: Delivery) -> dict[str, Any] | None:
        """What the message shows (order, merchant, amounts, event details); None when the
        order is gone."""


class MessageRenderer(Protocol):
    def render(self, category: Category, channel: Channel, facts: dict[str, Any]) -> RenderedMessage: ...


class MessageSender(Protocol):
    async def send(self, recipient: str, message: RenderedMessage, message_key: str) -> SendResult:
        """Send one message; never raises for what the server or network does. `message_key`
        is the same on every attempt of a delivery (email: the Message-ID)."""


@runtime_checkable
class MessageLookup(Protocol):
    """A transport whose provider can say whether it already holds a message (a Twilio-shaped
    Messages list): an in-doubt delivery is looked up there instead of being sent blind."""

    def digest(self, recipient: str, message: RenderedMessage) -> str:
        """What identifies this message at the provider (recorded before it is sent)."""

    async def find(self, recipient: str, digest: str, since: datetime) -> SendResult | None:
        """The message the provider holds with this digest, created since `since`: ok with its
        id; None when it has none; not ok when the look-up itself failed."""


class PreferenceStore(Protocol):
    async def get(self, merchant_id: uuid.UUID, user_id: uuid.UUID | None) -> NotificationPreferences | None:
        """A user's preferences, or (user_id None) the merchant's for its guest customers."""

    async def put(self, merchant_id: uuid.UUID, user_id: uuid.UUID | None,
                  preferences: NotificationPreferences) -> None: ...

"""Merchant webhooks (Standard Webhooks): which events go out, and what happens after
each delivery attempt — delivered, tried again later on the schedule, endpoint disabled
(410 Gone), refused (a target we may not call), or given up. Transport, signing and
timing live behind the ports below."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from app.domain.errors import Conflict, NotFound

NOTIFIED_EVENTS = frozenset({
    "order.status_changed", "payment.requires_action", "payment.succeeded", "payment.failed",
    "refund.succeeded", "refund.failed", "order.fulfillment_started", "order.allocation_failed",
})


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """A committed domain event as the outbox holds it."""

    id: uuid.UUID
    type: str
    merchant_id: uuid.UUID
    payload: dict[str, Any]
    occurred_at: datetime
    correlation_id: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    merchant_id: uuid.UUID
    url: str | None
    secret: str | None
    enabled: bool
    # The previous secret during a rotation's overlap: each webhook carries both signatures.
    also_sign_with: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WebhookResponse:
    status_code: int | None  # None: no HTTP answer (timeout, connection error, refused)
    latency_ms: int
    error: str | None = None
    refused: bool = False  # the target may not be called (private address): retrying won't help

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    event_id: uuid.UUID
    merchant_id: uuid.UUID
    attempt: int
    url: str
    response: WebhookResponse


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRY_SCHEDULED = "retry_scheduled"
    GAVE_UP = "gave_up"
    ENDPOINT_DISABLED = "endpoint_disabled"  # the merchant answered 410 Gone
    REFUSED = "refused"
    SKIPPED = "skipped"  # not a notified event, or no enabled endpoint
    ALREADY_DELIVERED = "already_delivered"


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    """What one delivery attempt reads: the event, whether it already reached the merchant,
    and the merchant's endpoint (None: no such merchant)."""

    event: StoredEvent
    delivered: bool
    endpoint: WebhookEndpoint | None


class WebhookStore(Protocol):
    async def event(self, event_id: uuid.UUID) -> StoredEvent | None: ...

    async def pending_delivery(self, event_id: uuid.UUID) -> PendingDelivery | None:
        """The event (None: no such event), whether it was delivered and its endpoint, read
        together: one round trip per delivery attempt instead of three."""

    async def endpoint(self, merchant_id: uuid.UUID) -> WebhookEndpoint | None: ...

    async def delivered(self, event_id: uuid.UUID) -> bool:
        """Whether this event has already reached the merchant (a 2xx was recorded)."""

    async def record(self, attempt: DeliveryAttempt) -> None:
        """Log the attempt; a successful one also marks the event delivered, atomically."""

    async def disable_endpoint(self, merchant_id: uuid.UUID) -> None: ...


class WebhookSender(Protocol):
    async def send(self, url: str, secret: str, webhook_id: str, message: dict[str, Any],
                   correlation_id: str | None, also_sign_with: tuple[str, ...] = ()) -> WebhookResponse:
        """Sign (with `secret`, and each of `also_sign_with`) and POST one message; never
        raises for what the receiver or network does."""


class RetryScheduler(Protocol):
    async def schedule(self, event_id: uuid.UUID, attempt: int, delay_s: float, *, resend: bool = False) -> None:
        """Run delivery attempt `attempt` of the event after `delay_s` seconds."""


def webhook_message(event: StoredEvent) -> dict[str, Any]:
    return {"id": str(event.id), "type": event.type, "created_at": event.occurred_at.isoformat(),
            "data": event.payload}


class NotificationService:
    def __init__(self, store: WebhookStore, sender: WebhookSender, retries: RetryScheduler,
                 schedule_s: Sequence[float]) -> None:
        self._store, self._sender, self._retries = store, sender, retries
        self._schedule = tuple(schedule_s)  # delay before attempt 2, 3, ...

    async def deliver(self, event_id: uuid.UUID, attempt: int = 1, *, resend: bool = False) -> DeliveryOutcome:
        """One delivery attempt. The webhook id is the event id on every attempt, so the
        merchant can drop duplicates; a failure schedules the next attempt itself."""
        pending = await self._store.pending_delivery(event_id)
        if pending is None or pending.event.type not in NOTIFIED_EVENTS:
            return DeliveryOutcome.SKIPPED
        if not resend and pending.delivered:
            return DeliveryOutcome.ALREADY_DELIVERED
        event, endpoint = pending.event, pending.endpoint
        if endpoint is None or not (endpoint.enabled and endpoint.url and endpoint.secret):
            return DeliveryOutcome.SKIPPED
        response = await self._sender.send(endpoint.url, endpoint.secret, str(event.id), webhook_message(event),
                                           event.correlation_id, endpoint.also_sign_with)
        await self._store.record(DeliveryAttempt(event.id, event.merchant_id, attempt, endpoint.url, response))
        if response.ok:
            return DeliveryOutcome.DELIVERED
        if response.status_code == 410:  # Gone: the merchant asks us to stop
            await self._store.disable_endpoint(event.merchant_id)
            return DeliveryOutcome.ENDPOINT_DISABLED
        if response.refused:
            return DeliveryOutcome.REFUSED
        if attempt > len(self._schedule):
            return DeliveryOutcome.GAVE_UP
        await self._retries.schedule(event.id, attempt + 1, self._schedule[attempt - 1], resend=resend)
        return DeliveryOutcome.RETRY_SCHEDULED

    async def resend(self, event_id: uuid.UUID) -> uuid.UUID:
        """Deliver an event again (admin), even if it was delivered before; the event's
        merchant. An endpoint that would not be called (none, or disabled by a 410) is a
        Conflict, not a silent no-op: re-enable it first."""
        event = await self._store.event(event_id)
        if event is None or event.type not in NOTIFIED_EVENTS:
            raise NotFound(f"no webhook event {event_id}", resource="event", id=str(event_id))
        endpoint = await self._store.endpoint(event.merchant_id)
        if endpoint is None or not (endpoint.url and endpoint.secret):
            raise Conflict(f"merchant {event.merchant_id} has no webhook endpoint: nothing to resend to",
                           code="webhook_endpoint_missing", merchant_id=str(event.merchant_id))
        if not endpoint.enabled:
            raise Conflict(f"the webhook endpoint of merchant {event.merchant_id} is disabled (it answered "
                           "410 Gone); re-enable it, then resend", code="webhook_endpoint_disabled",
                           merchant_id=str(event.merchant_id))
        await self._retries.schedule(event_id, 1, 0.0, resend=True)
        return event.merchant_id

"""Event schemas: an event is exactly the webhook message it was (or will be) sent as
(`id`, `type`, `created_at`, `data`), plus `delivery`: its webhook's status and attempts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Annotated

import msgspec
from msgspec import Meta

from app.domain.services.events import EventView, WebhookAttempt
from app.domain.services.notifications import NOTIFIED_EVENTS, webhook_message

# The types a webhook can carry (and GET /events can show), as an enum for the schema.
EventType = StrEnum("EventType", {name: name for name in sorted(NOTIFIED_EVENTS)})  # type: ignore[misc]


class DeliveryAttemptOut(msgspec.Struct):
    attempt: Annotated[int, Meta(description="1 for the first try; retries count up (an admin resend restarts at 1)")]
    url: Annotated[str, Meta(description="The endpoint it was sent to (credentials redacted)")]
    status_code: Annotated[int | None, Meta(description="Your endpoint's HTTP status; null when it gave none "
                                                        "(timeout, connection refused, target refused)")]
    latency_ms: Annotated[int | None, Meta(description="Time until your endpoint answered or the try failed")]
    error: Annotated[str | None, Meta(description="Why the try failed (`HTTP 500`, `ConnectTimeout: ...`); "
                                                  "null when it succeeded")]
    succeeded: Annotated[bool, Meta(description="A 2xx answer: the event was delivered")]
    created_at: datetime

    @classmethod
    def from_domain(cls, attempt: WebhookAttempt) -> DeliveryAttemptOut:
        return cls(attempt.attempt, attempt.url, attempt.status_code, attempt.latency_ms, attempt.error,
                   attempt.ok, attempt.created_at)


class Delivery(msgspec.Struct):
    status: Annotated[str, Meta(description=(
        "pending (a try is due at next_attempt_at), delivered, dead (every retry failed), disabled (your "
        "endpoint answered 410 Gone), refused (the URL may not be called), skipped (no webhook URL), "
        "failed (tried without success, no retry scheduled)"))]
    next_attempt_at: Annotated[datetime | None, Meta(description="When the next try is due (pending only)")]
    attempts: list[DeliveryAttemptOut]


class Event(msgspec.Struct):
    id: Annotated[uuid.UUID, Meta(description="The event id: also the webhook's `webhook-id` header, the same on "
                                              "every retry (drop duplicates by it)")]
    type: EventType
    created_at: Annotated[str, Meta(description="When it happened, as the webhook body says it (ISO 8601)")]
    data: Annotated[dict[str, Any], Meta(description=(
        "The event's payload, byte for byte what the webhook carried. Every event about an order has "
        "`order_id` and `order`: {id, merchant_reference, amount, currency, status} as of the event"))]
    delivery: Delivery

    @classmethod
    def from_view(cls, view: EventView) -> Event:
        message = webhook_message(view.event)
        return cls(id=view.event.id, type=message["type"], created_at=message["created_at"], data=message["data"],
                   delivery=Delivery(view.delivery_status,
                                     view.next_attempt_at if view.delivery_status == "pending" else None,
                                     [DeliveryAttemptOut.from_domain(a) for a in view.attempts]))


class EventPage(msgspec.Struct):
    data: list[Event]
    has_more: bool
    next_cursor: Annotated[str | None, Meta(description="Pass as `cursor` for the next page; null on the last")]

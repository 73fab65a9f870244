"""The merchant's events: what its webhooks carried (or will carry), each with its
delivery attempts, so a merchant can see what it missed and why without asking us.
Only the notified event types are shown: the others are internal (dispatch, catalog)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from app.domain.errors import NotFound
from app.domain.services.notifications import NOTIFIED_EVENTS, StoredEvent


@dataclass(frozen=True, slots=True)
class EventQuery:
    merchant_id: uuid.UUID
    types: frozenset[str] = NOTIFIED_EVENTS
    order_id: uuid.UUID | None = None
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    after: tuple[datetime, uuid.UUID] | None = None  # keyset cursor: (occurred_at, id) of the last one seen
    limit: int = 50


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    """One POST to the merchant's endpoint, as the delivery log recorded it."""

    attempt: int
    url: str  # credentials redacted
    status_code: int | None  # None: no HTTP answer (timeout, connection error, refused target)
    latency_ms: int | None
    error: str | None
    created_at: datetime

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class EventView:
    event: StoredEvent
    # The delivery job's status (pending, delivered, dead, disabled, refused, skipped), or
    # None when no job exists (not yet relayed, or delivered in-process without workers).
    job_status: str | None = None
    next_attempt_at: datetime | None = None
    attempts: list[WebhookAttempt] = field(default_factory=list)

    @property
    def id(self) -> uuid.UUID:
        return self.event.id

    @property
    def created_at(self) -> datetime:
        return self.event.occurred_at

    @property
    def delivery_status(self) -> str:
        if self.job_status is not None:
            return self.job_status
        if any(attempt.ok for attempt in self.attempts):
            return "delivered"
        return "failed" if self.attempts else "pending"


class EventLog(Protocol):
    async def list(self, query: EventQuery) -> list[EventView]:
        """The query's events, newest first (occurred_at, then id), at most limit + 1."""

    async def get(self, merchant_id: uuid.UUID, event_id: uuid.UUID) -> EventView | None:
        """One event of this merchant (None for another merchant's or an unknown one)."""


class EventService:
    def __init__(self, log: EventLog) -> None:
        self._log = log

    async def list(self, query: EventQuery) -> tuple[list[EventView], bool]:
        """A page of events and whether more follow."""
        types = query.types & NOTIFIED_EVENTS
        if not types:
            return [], False
        found = await self._log.list(EventQuery(query.merchant_id, frozenset(types), query.order_id,
                                                query.created_after, query.created_before, query.after,
                                                query.limit))
        return found[:query.limit], len(found) > query.limit

    async def get(self, merchant_id: uuid.UUID, event_id: uuid.UUID) -> EventView:
        view = await self._log.get(merchant_id, event_id)
        if view is None or view.event.type not in NOTIFIED_EVENTS:
            raise NotFound(f"no event {event_id}", resource="event", id=str(event_id))
        return view

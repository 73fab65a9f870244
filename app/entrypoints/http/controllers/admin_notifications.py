"""GET /admin/notifications: shopper email and SMS deliveries across merchants, newest
first, each with every attempt (outcome, latency, error, provider id), filtered by status,
channel, order, merchant and time, cursor-paginated. Read-only (NotificationQueries)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.params import Dependency, Parameter

from app.adapters.db.notification_queries import DeliveryFilter, NotificationQueries
from app.domain.errors import MalformedRequest
from app.entrypoints.http.access import authorize
from app.entrypoints.http.controllers.admin import ADMIN_ERRORS, ADMIN_ONLY
from app.entrypoints.http.dependencies import from_container
from app.entrypoints.http.pagination import TIMESTAMP, decode_cursor, encode_cursor, parse_timestamp

Queries = Annotated[NotificationQueries, Dependency(skip_validation=True)]


class NotificationAttempt(msgspec.Struct):
    attempt: int
    outcome: str  # delivered | retry_scheduled | dead
    latency_ms: int
    error: str | None
    provider_message_id: str | None
    created_at: datetime


class NotificationDelivery(msgspec.Struct):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str | None
    merchant_id: uuid.UUID
    order_id: uuid.UUID
    category: str
    channel: str
    recipient: str
    status: str  # pending | delivered | dead
    attempt: int  # the attempt due next (pending), or the last one
    next_attempt_at: datetime
    last_error: str | None
    provider_message_id: str | None
    in_doubt: bool  # a send was cut off: the next sender looks it up (SMS) before sending
    created_at: datetime
    updated_at: datetime
    attempts: list[NotificationAttempt]


class NotificationDeliveries(msgspec.Struct):
    data: list[NotificationDelivery]
    has_more: bool
    next_cursor: str | None


class AdminNotificationsController(Controller):
    path = "/admin/notifications"
    tags = ["admin"]
    guards = [authorize]  # also where the controller is mounted alone (the app applies it too)
    dependencies = {"queries": from_container("notification_queries")}

    @get("/", responses=ADMIN_ERRORS, **ADMIN_ONLY,
         summary="Shopper email and SMS deliveries with their attempts, newest first")
    async def list_deliveries(
            self, queries: Queries,
            status: Annotated[str | None, Parameter(pattern="^(pending|delivered|dead)$")] = None,
            channel: Annotated[str | None, Parameter(pattern="^(email|sms)$")] = None,
            order_id: uuid.UUID | None = None, merchant_id: uuid.UUID | None = None,
            created_from: Annotated[str | None, TIMESTAMP] = None, created_to: Annotated[str | None, TIMESTAMP] = None,
            cursor: Annotated[str | None, Parameter(max_length=200)] = None,
            limit: Annotated[int, Parameter(ge=1, le=200)] = 50) -> NotificationDeliveries:
        start, end = parse_timestamp(created_from, "created_from"), parse_timestamp(created_to, "created_to")
        if start is not None and end is not None and start > end:
            raise MalformedRequest("created_from is after created_to", field="created_from", code="invalid_filter")
        rows, has_more = await queries.deliveries(DeliveryFilter(
            status, channel, order_id, merchant_id, start, end, decode_cursor(cursor) if cursor else None, limit))
        last = rows[-1] if has_more and rows else None
        return NotificationDeliveries(msgspec.convert(rows, list[NotificationDelivery]), has_more,
                                      encode_cursor(last["created_at"], last["id"]) if last else None)

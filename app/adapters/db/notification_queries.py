"""The operator's view of shopper notifications: deliveries (one per event, channel and
recipient) with every attempt, newest first on (created_at, id), filtered by status,
channel, order, merchant and creation time (indexes: migrations 0050 and 0130)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

MAX_PAGE = 200
DELIVERY_COLUMNS = """
SELECT d.id, d.event_id, e.event_type, d.merchant_id, d.order_id, d.category, d.channel, d.recipient, d.status,
       d.attempt, d.next_attempt_at, d.last_error, d.provider_message_id,
       d.status = 'pending' AND d.sending_since IS NOT NULL AS in_doubt, d.created_at, d.updated_at
FROM notification_deliveries d LEFT JOIN outbox e ON e.id = d.event_id
"""
ATTEMPTS_SQL = """
SELECT delivery_id, attempt, outcome, latency_ms, error, provider_message_id, created_at
FROM notification_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, id
"""


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    status: str | None = None  # pending | delivered | dead
    channel: str | None = None  # email | sms
    order_id: uuid.UUID | None = None
    merchant_id: uuid.UUID | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None  # exclusive
    after: tuple[datetime, uuid.UUID] | None = None  # the cursor: the last row of the previous page
    limit: int = 50


class NotificationQueries:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine

    async def deliveries(self, f: DeliveryFilter) -> tuple[list[dict[str, Any]], bool]:
        """A page of deliveries, each with its attempts (oldest first), and whether more follow."""
        where, args = _where(f)
        limit = max(1, min(f.limit, MAX_PAGE))
        async with self._engine.transaction() as transaction:
            connection = transaction.connection
            rows = [dict(row) for row in await connection.fetch(
                f"{DELIVERY_COLUMNS} WHERE {where} ORDER BY d.created_at DESC, d.id DESC LIMIT {limit + 1}", *args)]
            page = rows[:limit]
            attempts = await connection.fetch(ATTEMPTS_SQL, [row["id"] for row in page]) if page else []
        by_delivery: dict[uuid.UUID, list[dict[str, Any]]] = {}
        for attempt in attempts:
            by_delivery.setdefault(attempt["delivery_id"], []).append(
                {k: v for k, v in dict(attempt).items() if k != "delivery_id"})
        return [{**row, "attempts": by_delivery.get(row["id"], [])} for row in page], len(rows) > limit

    async def of_order(self, order_id: uuid.UUID) -> list[dict[str, Any]]:
        """Every delivery of one order with its attempts (the order's timeline)."""
        found, _ = await self.deliveries(DeliveryFilter(order_id=order_id, limit=MAX_PAGE))
        return found


def _where(f: DeliveryFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []

    def add(clause: str, *values: Any) -> None:
        names = []
        for value in values:
            args.append(value)
            names.append(f"${len(args)}")
        clauses.append(clause.format(*names))

    if f.status is not None:
        add("d.status = {}", f.status)
    if f.channel is not None:
        add("d.channel = {}", f.channel)
    if f.order_id is not None:
        add("d.order_id = {}", f.order_id)
    if f.merchant_id is not None:
        add("d.merchant_id = {}", f.merchant_id)
    if f.created_from is not None:
        add("d.created_at >= {}", f.created_from)
    if f.created_to is not None:
        add("d.created_at < {}", f.created_to)
    if f.after is not None:
        add("(d.created_at, d.id) < ({}, {})", *f.after)
    return (" AND ".join(clauses) or "true"), args

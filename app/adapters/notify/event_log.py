"""The merchant's events in PostgreSQL: outbox rows (the payload the webhook carries),
the delivery job (webhook_schedule) and every attempt (webhook_deliveries). Keyset
pagination on (occurred_at, id), served by outbox_merchant_events_idx."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from app.domain.services.events import EventQuery, EventView, WebhookAttempt
from app.domain.services.notifications import StoredEvent

EVENT_COLUMNS = """
SELECT o.id, o.event_type, o.merchant_id, o.payload, o.occurred_at, o.correlation_id,
       s.status AS job_status, s.next_attempt_at
FROM outbox o LEFT JOIN webhook_schedule s ON s.event_id = o.id
"""
LIST_SQL = EVENT_COLUMNS + """
WHERE o.merchant_id = $1 AND o.event_type = ANY($2::text[])
  AND ($3::text IS NULL OR o.payload->>'order_id' = $3)
  AND ($4::timestamptz IS NULL OR o.occurred_at >= $4)
  AND ($5::timestamptz IS NULL OR o.occurred_at < $5)
  AND ($6::timestamptz IS NULL OR (o.occurred_at, o.id) < ($6, $7::uuid))
ORDER BY o.occurred_at DESC, o.id DESC
LIMIT $8
"""
GET_SQL = EVENT_COLUMNS + "WHERE o.id = $1 AND o.merchant_id = $2"
ATTEMPTS_SQL = """
SELECT event_id, attempt, url, status_code, latency_ms, error, created_at FROM webhook_deliveries
WHERE event_id = ANY($1::uuid[]) AND merchant_id = $2 ORDER BY id
"""


class PiccoloEventLog:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine

    async def list(self, query: EventQuery) -> list[EventView]:
        after_at, after_id = query.after or (None, None)
        async with self._engine.transaction() as transaction:
            connection = transaction.connection
            rows = await connection.fetch(
                LIST_SQL, query.merchant_id, sorted(query.types),
                str(query.order_id) if query.order_id else None, query.created_after, query.created_before,
                after_at, after_id, query.limit + 1)
            views = await _with_attempts(connection, query.merchant_id, rows)
        return views

    async def get(self, merchant_id: uuid.UUID, event_id: uuid.UUID) -> EventView | None:
        async with self._engine.transaction() as transaction:
            connection = transaction.connection
            row = await connection.fetchrow(GET_SQL, event_id, merchant_id)
            if row is None:
                return None
            [view] = await _with_attempts(connection, merchant_id, [row])
        return view


async def _with_attempts(connection: Any, merchant_id: uuid.UUID, rows: list[Any]) -> list[EventView]:
    attempts: dict[uuid.UUID, list[WebhookAttempt]] = defaultdict(list)
    if rows:
        for a in await connection.fetch(ATTEMPTS_SQL, [row["id"] for row in rows], merchant_id):
            attempts[a["event_id"]].append(WebhookAttempt(a["attempt"], a["url"], a["status_code"], a["latency_ms"],
                                                          a["error"], a["created_at"]))
    return [EventView(_event(row), row["job_status"], row["next_attempt_at"], attempts[row["id"]]) for row in rows]


def _event(row: Any) -> StoredEvent:
    payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
    return StoredEvent(row["id"], row["event_type"], row["merchant_id"], payload, row["occurred_at"],
                       row["correlation_id"])

"""The webhook use case's store in PostgreSQL: events from the outbox, endpoints from
merchants, every attempt in webhook_deliveries, and "delivered" as a processed_events row
written in the same transaction as the successful attempt's log line."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from app.adapters.audit.records import record_notification
from app.adapters.observability.business_metrics import WEBHOOK_DELIVERIES
from app.adapters.db import hot_path
from app.adapters.db.merchant_secrets import WebhookSecretBox
from app.adapters.db.tables import MerchantTable, OutboxTable
from app.adapters.queue.processed_events import PiccoloProcessedEvents
from app.domain.model.webhook_url import redact_url
from app.domain.services.notifications import DeliveryAttempt, PendingDelivery, StoredEvent, WebhookEndpoint

CONSUMER = "notify_merchant"
_decode = msgspec.json.Decoder().decode  # the payloads (jsonb as text)

INSERT_DELIVERY = """
INSERT INTO webhook_deliveries (event_id, merchant_id, attempt, url, status_code, latency_ms, error)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
LAST_ERROR = "UPDATE webhook_schedule SET last_error = $1, updated_at = now() WHERE event_id = $2"
# Every delivery reads its event and its merchant's endpoint: constant SQL straight on
# asyncpg (a prepared statement per connection), as Piccolo's query building cost more
# CPU than the statement (about a tenth of a worker's CPU in a webhook-heavy flow).
EVENT_SQL = "SELECT id, event_type, merchant_id, payload, occurred_at, correlation_id FROM outbox WHERE id = $1"
ENDPOINT_SQL = """
SELECT webhook_url, webhook_secret, webhook_enabled, previous_webhook_secret, previous_webhook_secret_expires_at
FROM merchants WHERE id = $1
"""

# A delivery attempt's reads in one statement: the event, whether a 2xx was recorded for it
# (processed_events, as `delivered`), and its merchant's endpoint.
PENDING_DELIVERY_SQL = """
SELECT o.id, o.event_type, o.merchant_id, o.payload, o.occurred_at, o.correlation_id,
       EXISTS (SELECT 1 FROM processed_events p WHERE p.consumer = $2 AND p.event_id = o.id) AS delivered,
       m.id IS NOT NULL AS has_merchant, m.webhook_url, m.webhook_secret, m.webhook_enabled,
       m.previous_webhook_secret, m.previous_webhook_secret_expires_at
FROM outbox o LEFT JOIN merchants m ON m.id = o.merchant_id
WHERE o.id = $1
"""


class PiccoloWebhookStore:
    def __init__(self, engine: PostgresEngine, processed: PiccoloProcessedEvents,
                 secrets: WebhookSecretBox | None = None) -> None:
        self._engine = engine
        self._processed = processed
        self._secrets = secrets or WebhookSecretBox(None)

    async def event(self, event_id: uuid.UUID) -> StoredEvent | None:
        row = await hot_path.one_statement(self._engine, "fetchrow", EVENT_SQL, event_id)
        return None if row is None else _event(row)

    async def pending_delivery(self, event_id: uuid.UUID) -> PendingDelivery | None:
        row = await hot_path.one_statement(self._engine, "fetchrow", PENDING_DELIVERY_SQL, event_id, CONSUMER)
        if row is None:
            return None
        event = _event(row)
        return PendingDelivery(event, row["delivered"],
                               self._endpoint(event.merchant_id, row) if row["has_merchant"] else None)

    async def endpoint(self, merchant_id: uuid.UUID) -> WebhookEndpoint | None:
        row = await hot_path.one_statement(self._engine, "fetchrow", ENDPOINT_SQL, merchant_id)
        return None if row is None else self._endpoint(merchant_id, row)

    def _endpoint(self, merchant_id: uuid.UUID, row: Any) -> WebhookEndpoint:
        previous: tuple[str, ...] = ()
        if row["previous_webhook_secret"] and row["previous_webhook_secret_expires_at"] > datetime.now(UTC):
            previous = (self._secrets.readable(merchant_id, row["previous_webhook_secret"]) or "",)
        return WebhookEndpoint(merchant_id, row["webhook_url"], self._secrets.readable(merchant_id, row["webhook_secret"]),
                               row["webhook_enabled"], also_sign_with=previous)

    async def delivered(self, event_id: uuid.UUID) -> bool:
        return await self._processed.seen(CONSUMER, event_id)

    async def record(self, attempt: DeliveryAttempt) -> None:
        response = attempt.response
        async with self._engine.transaction() as transaction:
            connection = transaction.connection
            await connection.execute(INSERT_DELIVERY, attempt.event_id, attempt.merchant_id, attempt.attempt,
                                     redact_url(attempt.url), response.status_code, response.latency_ms,
                                     redact_url(response.error) if response.error else None)
            if response.ok:
                await self._processed.claim(CONSUMER, attempt.event_id)
            else:  # the durable schedule's row (workers) shows the latest failure
                await connection.execute(LAST_ERROR, response.error or f"HTTP {response.status_code}",
                                         attempt.event_id)
            await record_notification(  # the audit trail, in this transaction
                transaction.connection, "webhook", response.latency_ms, _error_code(attempt),
                redact_url(response.error) if response.error else None,
                event=attempt.event_id, merchant=attempt.merchant_id, attempt=attempt.attempt)
        WEBHOOK_DELIVERIES.labels(_outcome(attempt)).inc()

    async def disable_endpoint(self, merchant_id: uuid.UUID) -> None:
        await MerchantTable.update({MerchantTable.webhook_enabled: False}).where(
            MerchantTable.id == merchant_id).run()

    async def attempts(self, event_id: uuid.UUID) -> list[dict]:
        """The delivery log of one event, oldest first (admin, tests)."""
        return await OutboxTable.raw(
            "SELECT attempt, url, status_code, latency_ms, error, created_at FROM webhook_deliveries"
            " WHERE event_id = {} ORDER BY id", event_id,
        ).run()


def _event(row: Any) -> StoredEvent:
    payload = _decode(row["payload"]) if isinstance(row["payload"], (str, bytes)) else row["payload"]
    return StoredEvent(row["id"], row["event_type"], row["merchant_id"], payload, row["occurred_at"],
                       row["correlation_id"])


def _outcome(attempt: DeliveryAttempt) -> str:
    response = attempt.response
    return "delivered" if response.ok else "refused" if response.refused else "failed"


def _error_code(attempt: DeliveryAttempt) -> str | None:
    response = attempt.response
    if response.ok:
        return None
    if response.refused:
        return "webhook_refused"
    return f"http_{response.status_code}" if response.status_code is not None else "webhook_unreachable"

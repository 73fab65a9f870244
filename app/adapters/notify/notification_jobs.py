"""Shopper notifications as durable jobs (table notification_deliveries), unique per
(event, channel, recipient). Planned by the outbox relay in the transaction that marks the
event published (`enlist`), or by the in-process consumer (`plan`); woken by the poller
after the relay (`wake_due`, FOR UPDATE SKIP LOCKED, a lease token per wake-up); taken by
one sender (`claim`, the token must still be the wake-up's) and settled with its attempt
logged (`settle`). Redis losing a wake-up delays a message by one lease, never drops it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from typing import Any

import structlog
from piccolo.engine.postgres import PostgresEngine

from app.adapters.audit.records import record_notification
from app.adapters.notify import notification_sql as sql
from app.adapters.outages import outage_of
from app.adapters.queue.publisher import Outgoing, Publisher, send_batch
from app.adapters.observability.business_metrics import NOTIFICATION_DELIVERIES
from app.domain.errors import ValidationFailed
from app.domain.model.notification import (
    SHOPPER_EVENTS, Category, Channel, NotificationPreferences, PlannedDelivery, Recipients, category_of,
    plan_deliveries,
)
from app.domain.ports_notifications import Delivery, NotificationOutcome, SendResult

WAKE_UP_ACTOR = "send_notification"
STATUS = {NotificationOutcome.DELIVERED: "delivered", NotificationOutcome.DEAD: "dead",
          NotificationOutcome.RETRY_SCHEDULED: "pending"}
logger = structlog.get_logger("fusionxpay.notifications")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _preferences(row: Any) -> NotificationPreferences | None:
    if row["channels"] is None:
        return None
    try:
        return NotificationPreferences.build(_json(row["channels"]), row["pref_email"], row["pref_phone"])
    except ValidationFailed:  # stored before a rule tightened: the defaults, not a lost event
        return None


def planned_for(row: Any, available: frozenset[Channel]) -> list[PlannedDelivery]:
    payload = _json(row["payload"])
    category = category_of(row["event_type"], payload)
    if category is None or row["order_id"] is None:
        return []
    customer = _json(row["customer"]) or {}
    who = Recipients(customer.get("email"), customer.get("phone"), row["user_email"], _preferences(row))
    return plan_deliveries(row["event_id"], row["merchant_id"], row["order_id"], category, who, available)


class PiccoloNotificationJobs:
    def __init__(self, engine: PostgresEngine, channels: frozenset[Channel], lease_s: float,
                 send_timeout_s: float) -> None:
        self._engine, self._channels = engine, channels
        self._lease_s = lease_s  # a wake-up not acted on by then is presumed lost
        self._send_lease_s = max(lease_s, send_timeout_s + 5.0)  # an attempt in flight

    async def _plan_on(self, connection: Any, event_ids: Sequence[uuid.UUID]) -> int:
        if not self._channels or not event_ids:
            return 0
        rows = await connection.fetch(sql.PLAN_FACTS, list(event_ids), sorted(SHOPPER_EVENTS))
        planned = [delivery for row in rows for delivery in planned_for(row, self._channels)]
        if planned:
            await connection.execute(sql.INSERT_PLANNED, *([getattr(p, name) for p in planned] for name in (
                "event_id", "merchant_id", "order_id", "category", "channel", "recipient")))
        return len(planned)

    async def enlist(self, connection: Any, events: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> int:
        """The relay's DurableConsumer: plan the events' deliveries in its transaction; how
        many were planned."""
        if not self._channels or not events:
            return 0  # (nothing to plan: no savepoint either)
        try:
            async with connection.transaction():  # a savepoint: a planning failure never blocks the relay
                return await self._plan_on(connection, [event_id for event_id, _ in events])
        except Exception as exc:
            if outage_of(exc) is not None:
                raise  # the database is down: the batch stays unpublished and is planned next round
            logger.exception("notification_planning_failed", events=len(events))
            return 0

    async def plan(self, event_id: uuid.UUID) -> list[uuid.UUID]:
        async with self._engine.transaction() as transaction:
            await self._plan_on(transaction.connection, [event_id])
            rows = await transaction.connection.fetch(sql.PENDING_OF_EVENT, event_id)
        return [row["id"] for row in rows]

    async def claim(self, delivery_id: uuid.UUID, lease: str | None) -> Delivery | None:
        async with self._engine.transaction() as transaction:
            connection = transaction.connection
            row = await connection.fetchrow(sql.LOCK_PENDING, delivery_id)
            if row is None:
                return None
            if lease is not None and str(row["lease_token"]) != lease:
                return None  # a duplicate or stale wake-up: the job has moved on
            if lease is None and not row["free"]:
                return None  # not due, or another sender holds it
            token = await connection.fetchval(sql.TAKE_LEASE, delivery_id, self._send_lease_s)
        return Delivery(row["id"], row["event_id"], row["merchant_id"], row["order_id"], Category(row["category"]),
                        Channel(row["channel"]), row["recipient"], row["attempt"], str(token),
                        row["sending_since"], row["sending_digest"])

    async def begin_send(self, delivery: Delivery, digest: str) -> bool:
        async with self._engine.transaction() as transaction:
            status = await transaction.connection.execute(sql.BEGIN_SEND, delivery.id,
                                                          uuid.UUID(delivery.lease_token), digest)
        return status.endswith(" 1")

    async def settle(self, delivery: Delivery, result: SendResult, outcome: NotificationOutcome,
                     delay_s: float | None = None, keep_doubt: bool = False) -> None:
        async with self._engine.transaction() as transaction:
            connection = transaction.connection
            await connection.execute(sql.LOG_ATTEMPT, delivery.id, delivery.attempt, outcome.value, result.latency_ms,
                                     result.error, result.provider_message_id)
            await connection.execute(sql.SETTLE, delivery.id, uuid.UUID(delivery.lease_token), STATUS[outcome],
                                     float(delay_s or 0.0), result.error, result.provider_message_id, keep_doubt)
            await record_notification(  # the audit trail, in this transaction (no recipient: personal data)
                connection, delivery.channel.value, result.latency_ms,
                None if result.ok else "send_refused" if result.permanent else "send_failed", result.error,
                delivery=delivery.id, event=delivery.event_id, merchant=delivery.merchant_id, order=delivery.order_id,
                category=delivery.category.value, attempt=delivery.attempt)
        NOTIFICATION_DELIVERIES.labels(delivery.channel.value, outcome.value).inc()
        logger.info("notification_attempt", delivery_id=str(delivery.id), event_id=str(delivery.event_id),
                    channel=delivery.channel.value, category=delivery.category.value, attempt=delivery.attempt,
                    outcome=outcome.value, latency_ms=result.latency_ms, error=result.error, in_doubt=keep_doubt,
                    retry_in_s=delay_s if outcome is NotificationOutcome.RETRY_SCHEDULED else None)

    async def reopen(self, delivery_id: uuid.UUID) -> None:
        async with self._engine.transaction() as transaction:
            await transaction.connection.execute(sql.REOPEN, delivery_id)

    async def wake_due(self, publisher: Publisher, limit: int = 500) -> int:
        """Send a wake-up for each due delivery, leasing it, in one transaction with the
        sends: a broker that refuses them leaves the rows due for the next round."""
        async with self._engine.transaction() as transaction:
            rows = await transaction.connection.fetch(sql.WAKE_DUE, limit, self._lease_s)
            if rows:
                await asyncio.to_thread(_send_all, publisher, rows)
        return len(rows)

    async def deliveries(self, event_id: uuid.UUID) -> list[dict[str, Any]]:
        """One event's deliveries with their attempts (operators, tests)."""
        async with self._engine.transaction() as transaction:
            rows = await transaction.connection.fetch(sql.DELIVERIES_OF_EVENT, event_id)
        return [dict(row) for row in rows]


def _send_all(publisher: Publisher, rows: Sequence[Any]) -> None:
    # One batch (a Redis pipeline); any refused wake-up fails the round, whose transaction
    # then leaves every row due for the next one (a duplicate wake-up finds its lease gone).
    accepted: list[bool] = []
    send_batch(publisher, [
        Outgoing(WAKE_UP_ACTOR, {"delivery_id": str(row["id"]), "lease": str(row["lease_token"])},
                 row["correlation_id"])
        for row in rows], accepted)
    if not all(accepted):
        raise RuntimeError(f"the broker refused {accepted.count(False)} of {len(rows)} wake-ups")


class PolledRetries:
    """The retries with workers: settling moved the job's due time; the poller wakes it."""

    async def schedule(self, delivery_id: uuid.UUID, delay_s: float) -> None:
        return None

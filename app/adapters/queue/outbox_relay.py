"""The transactional outbox relay: committed events -> queue messages, at least once.

A batch of unpublished rows is claimed with FOR UPDATE SKIP LOCKED (concurrent relays
split the work instead of waiting or doubling it), each row's messages are handed to the
publisher, and only the rows the broker accepted are marked published, in the claiming
transaction. A relay or broker dying mid-batch leaves its rows unpublished (or publishes
some twice): consumers dedupe on the event id."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import msgspec
import structlog
from piccolo.engine.postgres import PostgresEngine

from app.adapters.observability.trace_context import TRACEPARENT
from app.adapters.queue.publisher import Outgoing, Publisher, send_batch
from app.domain.routing import EVENT_ROUTES, Route, messages_for
from app.domain.services.notifications import StoredEvent

logger = structlog.get_logger("fusionxpay.outbox")

CLAIM_SQL = """
SELECT id, event_type, merchant_id, payload, occurred_at, correlation_id, traceparent FROM outbox
WHERE published_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED
"""
MARK_SQL = "UPDATE outbox SET published_at = now() WHERE id = ANY($1::uuid[])"
_decode = msgspec.json.Decoder().decode  # the payloads (jsonb as text): cheaper than json.loads


class DurableConsumer(Protocol):
    async def enlist(self, connection: Any, events: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> int:
        """Record the (event id, merchant id) jobs in the relay's transaction; how many new
        jobs are due (their poller has something to wake)."""


class OutboxRelay:
    def __init__(self, engine: PostgresEngine, publisher: Publisher,
                 routes: Mapping[str, tuple[Route, ...]] = EVENT_ROUTES, batch_size: int = 500,
                 durable: Mapping[str, DurableConsumer] | None = None) -> None:
        self._engine, self._publisher, self._routes, self._batch_size = engine, publisher, routes, batch_size
        # Consumers whose work is a job row in PostgreSQL, woken by their own poller: the
        # relay records the job instead of sending a message a broker could lose.
        self._durable = dict(durable or {})
        self._jobs_due: dict[str, int] = {}  # per durable consumer, since the last take

    async def _enlist(self, connection: Any, events: list[StoredEvent]) -> dict[str, int]:
        due: dict[str, int] = {}
        for consumer, jobs in self._durable.items():
            mine = [(event.id, event.merchant_id) for event in events
                    if any(name == consumer for name, _ in messages_for(event, self._routes))]
            if mine:
                due[consumer] = await jobs.enlist(connection, mine)
        return due

    def take_jobs_due(self) -> int:
        """How many durable jobs the relay made due since the last call (committed rounds):
        whether their pollers have new work (the relay on commit wakes them only then)."""
        return sum(self.take_jobs_due_by_consumer().values())

    def take_jobs_due_by_consumer(self) -> dict[str, int]:
        """The same per durable consumer (e.g. notify_merchant): which pollers have new work."""
        due, self._jobs_due = self._jobs_due, {}
        return {consumer: count for consumer, count in due.items() if count}

    def _publish(self, events: list[StoredEvent], accepted: list[uuid.UUID],
                 traces: Mapping[uuid.UUID, str | None] | None = None) -> None:
        # Blocking broker clients: runs in a thread. One batch for all the rows (a Redis
        # pipeline); a row counts as sent once the broker took every message of it.
        batch: list[Outgoing] = []
        owners: list[uuid.UUID] = []  # the event of each message in `batch`
        for event in events:
            trace = (traces or {}).get(event.id)  # the writing request's trace goes on with the message
            for consumer, kwargs in messages_for(event, self._routes):
                if consumer not in self._durable:
                    batch.append(Outgoing(consumer, kwargs, event.correlation_id,
                                          {TRACEPARENT: trace} if trace else None))
                    owners.append(event.id)
        taken: list[bool] = []
        try:
            send_batch(self._publisher, batch, taken)
        finally:  # (also after a failure midway: keep what the broker took)
            unsent = {owner for index, owner in enumerate(owners) if index >= len(taken) or not taken[index]}
            accepted.extend(event.id for event in events if event.id not in unsent)

    async def relay_once(self) -> int:
        """Publish one batch; the number of rows marked published."""
        accepted: list[uuid.UUID] = []
        failure: Exception | None = None
        async with self._engine.transaction() as transaction:
            connection = transaction.connection
            rows = await connection.fetch(CLAIM_SQL, self._batch_size)
            if not rows:
                return 0
            events = [StoredEvent(row["id"], row["event_type"], row["merchant_id"],
                                  _decode(row["payload"]) if isinstance(row["payload"], str) else row["payload"],
                                  row["occurred_at"], row["correlation_id"]) for row in rows]
            due = await self._enlist(connection, events)
            traces = {row["id"]: row["traceparent"] for row in rows}
            try:
                await asyncio.to_thread(self._publish, events, accepted, traces)
            except Exception as exc:  # keep (commit) what the broker took before it failed
                failure = exc
            if accepted:
                await connection.execute(MARK_SQL, accepted)
        for consumer, count in due.items():  # the enlisted jobs committed
            self._jobs_due[consumer] = self._jobs_due.get(consumer, 0) + count
        if failure is not None:
            logger.warning("outbox_publish_failed", published=len(accepted), unpublished=len(rows) - len(accepted),
                           error=f"{type(failure).__name__}: {failure}")
            raise failure
        return len(accepted)

    async def drain(self, budget_s: float = 5.0) -> int:
        """Relay batches until the outbox is empty or the time budget is spent."""
        total, deadline = 0, time.monotonic() + budget_s
        while time.monotonic() < deadline:
            relayed = await self.relay_once()
            total += relayed
            if relayed < self._batch_size:
                break
        if total:
            logger.info("outbox_relayed", events=total)
        return total

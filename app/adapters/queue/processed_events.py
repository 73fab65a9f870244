"""Consumer-side dedupe: one processed_events row per (consumer, event id) that has had
its effect. The outbox relays at least once, so every consumer must tolerate the same
event twice; this table is how they tell."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog

from app.adapters.db import hot_path, log_rides
from app.adapters.db.commit_writes import CommitWrites
from app.adapters.db.tables import OutboxTable
from app.domain.ports import WriteSkipped

T = TypeVar("T")
logger = structlog.get_logger("fusionxpay.workers")

# Constant SQL run straight on asyncpg (a prepared statement per connection): every actor
# run does one or two of these, and Piccolo's query building cost more than the statement.
CLAIM_SQL = """
INSERT INTO processed_events (consumer, event_id) VALUES ($1, $2)
ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id
"""
SEEN_SQL = "SELECT EXISTS (SELECT 1 FROM processed_events WHERE consumer = $1 AND event_id = $2)"


async def _fetchval(sql: str, *args: Any) -> Any:
    """In the unit of work this task is in, else on its own."""
    return await hot_path.one_statement(OutboxTable._meta.db, "fetchval", sql, *args)


class PiccoloProcessedEvents:
    def __init__(self, writes: CommitWrites | None = None) -> None:
        self._writes = writes  # a single-statement unit's: a claim at commit is its condition

    async def claim_at_commit(self, consumer: str, event_id: uuid.UUID) -> None:
        if self._writes is not None:
            self._writes.guard = (CLAIM_SQL, (consumer, event_id))
        elif not await self.claim(consumer, event_id):
            raise WriteSkipped(f"event {event_id} was handled by {consumer} before")

    async def claim(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Record the event for `consumer` in the current transaction; False if it was
        recorded before. Run it in the transaction that holds the effect: a rollback then
        forgets the claim, and a concurrent duplicate waits on the row, then skips."""
        return await _fetchval(CLAIM_SQL, consumer, event_id) is not None

    async def seen(self, consumer: str, event_id: uuid.UUID) -> bool:
        return bool(await _fetchval(SEEN_SQL, consumer, event_id))
    async def once(self, consumer: str, event_id: uuid.UUID | None, effect: Callable[[], Awaitable[T]], *,
                   mark_with_commit: bool = False) -> T | None:
        """Run an effect that leaves our database (a provider call) unless this event
        already had it. The mark comes after the effect: a crash in between repeats the
        effect, so such effects must be idempotent themselves (provider idempotency keys).
        `mark_with_commit`: the mark rides on the commit the effect makes (the verdict it
        applies: app/adapters/db/log_rides.py), in the same statement, instead of a
        statement and a commit of its own after it; written after the effect as before
        when no commit of the effect took it."""
        if event_id is not None and await self.seen(consumer, event_id):
            logger.info("event_already_processed", consumer=consumer, event_id=str(event_id))
            return None
        ride = log_rides.offer_mark(consumer, event_id) if mark_with_commit and event_id is not None else None
        try:
            result = await effect()
        finally:
            if ride is not None:
                log_rides.withdraw(ride)  # (nothing once a commit wrote it)
        if event_id is not None and (ride is None or ride.state != "done"):
            await self.claim(consumer, event_id)
        return result

"""Merchant webhook deliveries as durable jobs (table webhook_schedule): what is due, when,
and who holds it. The broker carries only wake-ups, each naming the lease token it was
sent with; a wake-up that Redis loses is sent again once its lease runs out, a duplicate
or stale one finds the token changed and does nothing. So every scheduled retry lives in
PostgreSQL, and Redis can lose everything it holds without losing a webhook.

Rows are made by the outbox relay, in the transaction that marks the event published
(`enlist`); the retry schedule and admin resends move them (`schedule`, the use case's
RetryScheduler); the periodic poller, right after the relay, wakes the due ones
(`wake_due`, FOR UPDATE SKIP LOCKED); the actor claims (`claim`) and settles (`close`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from app.adapters.db import hot_path
from app.adapters.queue.publisher import Outgoing, Publisher, send_batch
from app.domain.services.notifications import DeliveryOutcome

WAKE_UP_ACTOR = "notify_merchant"
FINAL_STATUS = {
    DeliveryOutcome.DELIVERED: "delivered", DeliveryOutcome.ALREADY_DELIVERED: "delivered",
    DeliveryOutcome.GAVE_UP: "dead", DeliveryOutcome.ENDPOINT_DISABLED: "disabled",
    DeliveryOutcome.REFUSED: "refused", DeliveryOutcome.SKIPPED: "skipped",
}

# A merchant with no endpoint to call (no URL or secret, or disabled by a 410) gets its
# job closed as 'skipped' at once, the verdict the delivery would reach (it checks the
# endpoint when it runs, milliseconds later): no wake-up, claim, lookups and close for a
# webhook nobody receives. An endpoint configured later does not reach back for these
# events, as before; an admin resend reopens the job as always.
ENLIST_SQL = """
INSERT INTO webhook_schedule (event_id, merchant_id, status)
SELECT e.event_id, e.merchant_id,
       CASE WHEN m.webhook_enabled AND coalesce(m.webhook_url, '') <> '' AND coalesce(m.webhook_secret, '') <> ''
            THEN 'pending' ELSE 'skipped' END
FROM unnest($1::uuid[], $2::uuid[]) AS e (event_id, merchant_id) LEFT JOIN merchants m ON m.id = e.merchant_id
ON CONFLICT (event_id) DO NOTHING
"""
SCHEDULE_SQL = """
INSERT INTO webhook_schedule (event_id, merchant_id, attempt, resend, next_attempt_at)
SELECT id, merchant_id, $2, $3, now() + make_interval(secs => $4) FROM outbox WHERE id = $1
ON CONFLICT (event_id) DO UPDATE SET status = 'pending', attempt = EXCLUDED.attempt, resend = EXCLUDED.resend,
    next_attempt_at = EXCLUDED.next_attempt_at, lease_token = NULL, leased_until = NULL, updated_at = now()
"""
WAKE_DUE_SQL = """
WITH due AS (
    SELECT event_id FROM webhook_schedule
    WHERE status = 'pending' AND next_attempt_at <= now() AND (leased_until IS NULL OR leased_until <= now())
    ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
)
UPDATE webhook_schedule s SET lease_token = gen_random_uuid(), leased_until = now() + make_interval(secs => $2),
    updated_at = now()
FROM due LEFT JOIN outbox o ON o.id = due.event_id
WHERE s.event_id = due.event_id
RETURNING s.event_id, s.lease_token, o.correlation_id
"""
# The wake-up may arrive before the transaction that leased the row commits (it is sent
# from inside it): locking the row first (matched on what that transaction does not change)
# waits for that commit and then sees its token, which an UPDATE filtering on the token
# would not (it skips a row whose old version does not match, without waiting). One
# statement: the lock, the token check and the new lease, in one round trip.
CLAIM_SQL = """
WITH locked AS (
    SELECT event_id, lease_token, attempt, resend FROM webhook_schedule
    WHERE event_id = $1 AND status = 'pending' FOR UPDATE
)
UPDATE webhook_schedule s SET lease_token = gen_random_uuid(), leased_until = now() + make_interval(secs => $3),
    updated_at = now()
FROM locked WHERE s.event_id = locked.event_id AND locked.lease_token = $2::uuid
RETURNING locked.attempt, locked.resend
"""
CLOSE_SQL = """
UPDATE webhook_schedule SET status = $2, lease_token = NULL, leased_until = NULL, updated_at = now()
WHERE event_id = $1 AND status = 'pending'
"""


@dataclass(frozen=True, slots=True)
class Claimed:
    attempt: int
    resend: bool


class PiccoloWebhookSchedule:
    def __init__(self, engine: PostgresEngine, lease_s: float, send_timeout_s: float) -> None:
        self._engine = engine
        self._lease_s = lease_s  # a wake-up not acted on by then is presumed lost
        self._send_lease_s = max(lease_s, send_timeout_s + 5.0)  # an attempt in flight

    async def enlist(self, connection: Any, events: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> int:
        """Put (event id, merchant id) deliveries on the schedule, due now, on the caller's
        connection and transaction (the relay's, which marks the events published); the
        poller wakes them once that has committed. Existing jobs stay as they are. The
        number of new jobs due (not skipped)."""
        if not events:
            return 0
        rows = await connection.fetch(ENLIST_SQL + " RETURNING status", [e for e, _ in events],
                                      [m for _, m in events])
        return sum(row["status"] == "pending" for row in rows)

    async def schedule(self, event_id: uuid.UUID, attempt: int, delay_s: float, *, resend: bool = False) -> None:
        """The use case's RetryScheduler: attempt `attempt` becomes due in `delay_s`."""
        async with self._engine.transaction() as transaction:
            await transaction.connection.execute(SCHEDULE_SQL, event_id, attempt, resend, float(delay_s))

    async def wake_due(self, publisher: Publisher, limit: int = 500) -> int:
        """Send a wake-up for each due delivery, leasing it; in one transaction with the
        sends, so a broker that refuses them leaves the rows due for the next round."""
        async with self._engine.transaction() as transaction:
            rows = await transaction.connection.fetch(WAKE_DUE_SQL, limit, self._lease_s)
            if rows:
                await asyncio.to_thread(_send_all, publisher, rows)
        return len(rows)

    async def claim(self, event_id: uuid.UUID, lease_token: str) -> Claimed | None:
        """Take the delivery a wake-up names, if its lease is still the one it was sent
        with; the token changes, so a duplicate of the wake-up finds nothing."""
        try:
            token = uuid.UUID(lease_token)
        except ValueError:
            return None  # not a token we ever sent
        row = await self._one("fetchrow", CLAIM_SQL, event_id, token, self._send_lease_s)
        return None if row is None else Claimed(row["attempt"], row["resend"])

    async def close(self, event_id: uuid.UUID, outcome: DeliveryOutcome) -> None:
        """The delivery is over (delivered, dead, refused...): nothing more is scheduled."""
        await self._one("execute", CLOSE_SQL, event_id, FINAL_STATUS[outcome])

    async def _one(self, method: str, sql: str, *args: Any) -> Any:
        # A single statement commits on its own: no BEGIN and COMMIT around it (three round
        # trips become one), and never in a caller's transaction.
        return await hot_path.one_statement(self._engine, method, sql, *args, join=False)

    async def status(self, event_id: uuid.UUID) -> dict[str, Any] | None:
        """One delivery's row (operators, tests)."""
        async with self._engine.transaction() as transaction:
            row = await transaction.connection.fetchrow(
                "SELECT status, attempt, next_attempt_at, last_error FROM webhook_schedule WHERE event_id = $1",
                event_id)
        return dict(row) if row else None


def _send_all(publisher: Publisher, rows: Sequence[Any]) -> None:
    # One batch (a Redis pipeline); any refused wake-up fails the round, whose transaction
    # then leaves every row due for the next one (a duplicate wake-up finds its lease gone).
    accepted: list[bool] = []
    send_batch(publisher, [
        Outgoing(WAKE_UP_ACTOR, {"event_id": str(row["event_id"]), "lease": str(row["lease_token"])},
                 row["correlation_id"])
        for row in rows], accepted)
    if not all(accepted):
        raise RuntimeError(f"the broker refused {accepted.count(False)} of {len(rows)} wake-ups")

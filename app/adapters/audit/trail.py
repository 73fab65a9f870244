"""The audit trail in PostgreSQL (audit_log, append-only by trigger).

Records of committed changes are inserted by the unit of work in its own transaction
(INSERT_AUDIT, `audit_values`). The others — reads (`data_lookup`) and failed operations,
whose transaction is rolled back or never wrote — go through `append`: queued in memory
and written in batches by a background task, so a read pays for a list append, not a
round trip. The price: records queued when a process is killed (not stopped) are lost;
a stop flushes them."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import msgspec
import structlog
from piccolo.engine.postgres import PostgresEngine

from app.adapters.db.hot_path import one_statement
from app.domain.model.audit import Actor, ActorKind, AuditRecord, AuditStatus, AuditType
from app.domain.ports_audit import AuditQuery

logger = structlog.get_logger("fusionxpay.audit")

COLUMNS = ("id", "occurred_at", "event_type", "status", "action", "correlation_id", "actor_kind", "actor_id",
           "entities", "duration_ms", "error_code", "error_detail")
INSERT_AUDIT = f"""
INSERT INTO audit_log ({", ".join(COLUMNS)})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10, $11, $12)
ON CONFLICT (id) DO NOTHING
"""  # a batch written again after its first try was interrupted mid-commit
TYPES = ("uuid", "timestamptz", "text", "text", "text", "text", "text", "text", "jsonb", "float8", "text", "text")
# A queued batch: one statement of column arrays (one parse, plan and executor start for the
# batch, where executemany ran the INSERT once per record), committing on its own.
INSERT_AUDIT_BATCH = (f"INSERT INTO audit_log ({', '.join(COLUMNS)}) SELECT * FROM unnest("
                      + ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(TYPES, start=1))
                      + ") ON CONFLICT (id) DO NOTHING")
FLUSH_DELAY_S = 0.05  # a read's record waits this long for others to share its INSERT
FLUSH_AT = 200  # ... or until this many are queued
MAX_QUEUED = 20_000  # PostgreSQL unreachable: the oldest are dropped (and counted) past this
RETRY_DELAY_S = 1.0


def audit_values(record: AuditRecord) -> tuple[Any, ...]:
    return (record.id, record.occurred_at, record.type.value, record.status.value, record.action,
            record.correlation_id, record.actor.kind.value, record.actor.id,
            msgspec.json.encode(record.entities).decode(), record.duration_ms, record.error_code,
            record.error_detail)


def record_of(row: Any) -> AuditRecord:
    entities = row["entities"]
    return AuditRecord(
        id=row["id"], type=AuditType(row["event_type"]), status=AuditStatus(row["status"]),
        occurred_at=row["occurred_at"], actor=Actor(ActorKind(row["actor_kind"]), row["actor_id"]),
        entities=msgspec.json.decode(entities) if isinstance(entities, str) else dict(entities),
        duration_ms=row["duration_ms"], correlation_id=row["correlation_id"], action=row["action"],
        error_code=row["error_code"], error_detail=row["error_detail"])


class PiccoloAuditTrail:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine
        self._queue: list[AuditRecord] = []
        self._task: asyncio.Task[None] | None = None
        self._writing: asyncio.Lock | None = None
        self.dropped = 0

    def append(self, records: list[AuditRecord]) -> None:
        self._queue.extend(records)
        if len(self._queue) > MAX_QUEUED:
            overflow = len(self._queue) - MAX_QUEUED
            del self._queue[:overflow]
            self.dropped += overflow
            logger.warning("audit_records_dropped", dropped=overflow)
        if self._task is None or self._task.done():
            # An empty context: the writer must not join the transaction of whoever queued.
            self._task = asyncio.get_running_loop().create_task(self._write_soon(), context=contextvars.Context())

    async def _write_soon(self) -> None:
        delay = FLUSH_DELAY_S
        while self._queue:
            if len(self._queue) < FLUSH_AT:
                await asyncio.sleep(delay)
            try:
                await self._write()
                delay = FLUSH_DELAY_S
            except Exception as exc:  # PostgreSQL down: keep them, try again later
                logger.warning("audit_write_failed", queued=len(self._queue), error=f"{type(exc).__name__}: {exc}")
                delay = RETRY_DELAY_S

    async def _write(self) -> None:
        self._writing = self._writing or asyncio.Lock()
        async with self._writing:  # one batch at a time: flush() waits for one in flight
            batch, self._queue = self._queue, []
            if not batch:
                return
            rows = [audit_values(record) for record in batch]
            try:
                await one_statement(self._engine, "execute", INSERT_AUDIT_BATCH,
                                    *([row[i] for row in rows] for i in range(len(COLUMNS))), join=False)
            except BaseException:
                self._queue[:0] = batch
                raise

    async def flush(self) -> None:
        """Write everything queued now and wait for a batch being written (outside any
        transaction of the caller's)."""
        await asyncio.get_running_loop().create_task(self._write(), context=contextvars.Context())

    async def aclose(self) -> None:
        """At stop: the background writer ends, what is queued is written."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        try:
            await self.flush()
        except Exception as exc:
            logger.warning("audit_records_lost", lost=len(self._queue), error=f"{type(exc).__name__}: {exc}")

    async def search(self, query: AuditQuery) -> list[AuditRecord]:
        sql, args = search_sql(query)
        async with self._engine.transaction() as transaction:
            rows = await transaction.connection.fetch(sql, *args)
        return [record_of(row) for row in rows]


def search_sql(query: AuditQuery) -> tuple[str, list[Any]]:
    where: list[str] = []
    args: list[Any] = []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if query.type is not None:
        where.append(f"event_type = {arg(query.type.value)}")
    if query.status is not None:
        where.append(f"status = {arg(query.status.value)}")
    if query.actor_kind is not None:
        where.append(f"actor_kind = {arg(query.actor_kind.value)}")
    if query.actor_id is not None:
        where.append(f"actor_id = {arg(query.actor_id)}")
    if query.entity is not None:
        kind, entity_id = query.entity
        where.append(f"entities @> {arg(msgspec.json.encode({kind: entity_id}).decode())}::jsonb")
    if query.since is not None:
        where.append(f"occurred_at >= {arg(query.since)}")
    if query.until is not None:
        where.append(f"occurred_at < {arg(query.until)}")
    if query.cursor is not None:
        at, record_id = query.cursor
        where.append(f"(occurred_at, id) < ({arg(at)}, {arg(record_id)})")
    sql = (f"SELECT {', '.join(COLUMNS)} FROM audit_log"
           + (f" WHERE {' AND '.join(where)}" if where else "")
           + f" ORDER BY occurred_at DESC, id DESC LIMIT {arg(query.limit + 1)}")
    return sql, args


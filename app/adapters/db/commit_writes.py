"""What a unit of work writes when it commits, in one statement: its outbox rows, its
audit records and the idempotency key's stored response (data-modifying CTEs). They used
to be three statements, each one more round trip to PostgreSQL per request. The statement
is constant for each combination of row counts, so asyncpg prepares each variant once per
connection: a few rows (the usual one or two) as VALUES, which asyncpg encodes cheaper
than arrays; more as arrays, unnested (one variant whatever the count).

Every part runs, referenced or not (PostgreSQL executes each data-modifying WITH
sub-statement exactly once), in the transaction about to commit; the outbox's
statement-level NOTIFY trigger fires as for a plain INSERT."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import asyncpg

from app.adapters.audit.trail import COLUMNS as AUDIT_COLUMNS

OUTBOX_COLUMNS = ("id", "event_type", "aggregate_id", "merchant_id", "payload", "correlation_id", "occurred_at",
                  "traceparent")
OUTBOX_TYPES = ("uuid", "text", "uuid", "uuid", "jsonb", "text", "timestamptz", "text")
AUDIT_TYPES = ("uuid", "timestamptz", "text", "text", "text", "text", "text", "text", "jsonb", "float8", "text",
               "text")
MAX_VALUES_ROWS = 4  # up to this many rows of a part: VALUES; more: arrays


@dataclass(slots=True)
class CommitWrites:
    outbox: list[tuple[Any, ...]] = field(default_factory=list)  # hot_path.INSERT_OUTBOX's values
    audit: list[tuple[Any, ...]] = field(default_factory=list)  # trail.audit_values()
    response: tuple[Any, ...] | None = None  # (merchant_id, key, status_code, body) of a claimed key

    def __bool__(self) -> bool:
        return bool(self.outbox or self.audit or self.response is not None)

    async def run(self, connection: asyncpg.Connection) -> None:
        if not self:
            return
        args: list[Any] = []
        for rows, width in ((self.outbox, len(OUTBOX_COLUMNS)), (self.audit, len(AUDIT_COLUMNS))):
            if len(rows) > MAX_VALUES_ROWS:
                args += [[row[i] for row in rows] for i in range(width)]
            else:
                args += [value for row in rows for value in row]
        if self.response is not None:
            args += self.response
        await connection.execute(statement(_shape(len(self.outbox)), _shape(len(self.audit)),
                                           self.response is not None), *args)


def _shape(rows: int) -> int:
    """The statement's form for this many rows: the count as VALUES, or -1 for arrays."""
    return rows if rows <= MAX_VALUES_ROWS else -1


def _rows(first: int, count: int, types: tuple[str, ...]) -> str:
    """`count` VALUES rows of parameters from $first (count -1: SELECT from unnested arrays)."""
    if count < 0:
        return f"SELECT * FROM unnest({', '.join(f'${first + i}::{kind}[]' for i, kind in enumerate(types))})"
    width = len(types)
    return "VALUES " + ", ".join(
        "(" + ", ".join(f"${first + r * width + i}::{kind}" for i, kind in enumerate(types)) + ")"
        for r in range(count))


@lru_cache(maxsize=64)
def statement(outbox: int, audit: int, response: bool) -> str:
    parts: list[str] = []
    n = 1
    if outbox:
        parts.append(f"INSERT INTO outbox ({', '.join(OUTBOX_COLUMNS)}) {_rows(n, outbox, OUTBOX_TYPES)}")
        n += len(OUTBOX_TYPES) * (1 if outbox < 0 else outbox)
    if audit:
        # ON CONFLICT: as the trail's own INSERT (a batch written again after an interrupted commit)
        parts.append(f"INSERT INTO audit_log ({', '.join(AUDIT_COLUMNS)}) {_rows(n, audit, AUDIT_TYPES)} "
                     "ON CONFLICT (id) DO NOTHING")
        n += len(AUDIT_TYPES) * (1 if audit < 0 else audit)
    if response:
        parts.append(f"UPDATE idempotency_keys SET status_code = ${n + 2}, response_body = ${n + 3} "
                     f"WHERE merchant_id = ${n} AND key = ${n + 1}")
    if len(parts) == 1:
        return parts[0]
    ctes = ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(parts[:-1]))
    return f"WITH {ctes} {parts[-1]}"

"""What a unit of work writes when it commits, in one statement (data-modifying CTEs):
its outbox rows, its audit records, the idempotency key's stored response, and, for a
unit that writes in one statement (UnitOfWorkFactory.single_statement()), its deferred
inserts and the idempotency claim itself. They used to be separate statements, each one
more round trip to PostgreSQL per request. The statement is constant for each combination
of row counts, so asyncpg prepares each variant once per connection: a few rows (the
usual one or two) as VALUES, which asyncpg encodes cheaper than arrays; more as arrays,
unnested (one variant whatever the count).

Every part runs, referenced or not (PostgreSQL executes each data-modifying WITH
sub-statement exactly once), in the transaction about to commit, or, with no transaction
around it, as a transaction of its own: atomic either way. The outbox's statement-level
NOTIFY trigger fires as for a plain INSERT.

The claim (`claim`): the key's row with its response, inserted, or taken over once
expired (the TTL re-claim of idempotency.CLAIM_SQL). Every other part writes only if the
claim did (a concurrent request with the same key waits on the claim's uncommitted row,
up to the lock timeout, exactly as a claim-first request does). The deferred inserts
(`orders`) skip a row whose unique key is taken (ON CONFLICT DO NOTHING); the final
SELECT then calls fxp_write_refused() (migration 0131), whose error aborts the whole
statement: nothing of it is written, the claim included.

A guard (`guard`) takes the claim's place for a unit that writes one conditional change:
a statement that returns a row when it wrote (an attempt still INITIATED marked PENDING);
every other part writes only if it did, as with a claim, and the commit raises
WriteSkipped when it did not: nothing was written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import asyncpg

from app.adapters.audit.trail import COLUMNS as AUDIT_COLUMNS, TYPES as AUDIT_TYPES
from app.adapters.db.hot_path import ORDER_COLUMNS
from app.domain.ports import WriteSkipped

OUTBOX_COLUMNS = ("id", "event_type", "aggregate_id", "merchant_id", "payload", "correlation_id", "occurred_at",
                  "traceparent")
OUTBOX_TYPES = ("uuid", "text", "uuid", "uuid", "jsonb", "text", "timestamptz", "text")
ORDER_TYPES = ("uuid", "uuid", "text", "text", "int8", "text", "jsonb", "jsonb", "text", "int4", "date",
               "timestamptz", "timestamptz", "text", "uuid")
# provider_calls rows riding on the commit (app/adapters/db/log_rides.py, call_log._values)
CALL_COLUMNS = ("provider", "operation", "attempt_id", "refund_id", "outcome", "failure_code", "latency_ms")
CALL_TYPES = ("text", "text", "uuid", "uuid", "text", "text", "int4")
MARK_TYPES = ("text", "uuid")  # processed_events (consumer, event_id) riding on the commit
MAX_VALUES_ROWS = 4  # up to this many rows of a part: VALUES; more: arrays
WRITE_REFUSED = "FXP01"  # fxp_write_refused()'s SQLSTATE


class WriteRefused(Exception):
    """A deferred insert met a taken unique key: the statement was aborted, nothing written."""


class KeyNotClaimed(Exception):
    """The statement's idempotency claim did not get the key, so nothing was written:
    another request's answer is stored under it, or (`busy`) another request still holds
    it past the lock timeout."""

    def __init__(self, busy: bool) -> None:
        super().__init__("the idempotency key is held by another request" + (" still running" if busy else ""))
        self.busy = busy


@dataclass(slots=True)
class CommitWrites:
    outbox: list[tuple[Any, ...]] = field(default_factory=list)  # hot_path.INSERT_OUTBOX's values
    audit: list[tuple[Any, ...]] = field(default_factory=list)  # trail.audit_values()
    orders: list[tuple[Any, ...]] = field(default_factory=list)  # hot_path.order_values(), deferred inserts
    calls: list[tuple[Any, ...]] = field(default_factory=list)  # provider_calls rows (CALL_COLUMNS)
    marks: list[tuple[Any, ...]] = field(default_factory=list)  # processed_events (consumer, event_id)
    # Saves of rows this transaction has locked, sent with the commit (save(at_commit=True)):
    # (update SQL, row id) -> its parameters, the row's last state (one UPDATE per row).
    updates: dict[tuple[str, Any], tuple[Any, ...]] = field(default_factory=dict)
    response: tuple[Any, ...] | None = None  # (merchant_id, key, status_code, body) of a claimed key
    # (merchant_id, key, fingerprint, ttl_s, status_code, body): the key claimed by this statement
    claim: tuple[Any, ...] | None = None
    # (sql, args): the conditional write the others depend on (see the module's docstring)
    guard: tuple[str, tuple[Any, ...]] | None = None

    def __bool__(self) -> bool:
        return bool(self.outbox or self.audit or self.orders or self.calls or self.marks or self.updates
                    or self.response is not None
                    or self.claim is not None or self.guard is not None)

    def adopt(self, nested: CommitWrites) -> None:
        """A nested unit's writes, to go with this (outer) unit's."""
        self.outbox.extend(nested.outbox)
        self.orders.extend(nested.orders)
        self.updates.update(nested.updates)
        nested.outbox.clear()
        nested.orders.clear()
        nested.updates.clear()

    async def run(self, connection: asyncpg.Connection) -> None:
        """Raises WriteRefused or KeyNotClaimed when the statement wrote nothing."""
        if not self:
            return
        if self.claim is not None and self.guard is not None:
            raise RuntimeError("a statement has one claim or one guard, not both")
        guard = CLAIM if self.claim is not None else self.guard[0] if self.guard is not None else None
        args: list[Any] = list(self.claim) if self.claim is not None else list(self.guard[1]) if self.guard else []
        for values in self.updates.values():
            args += values
        for rows, width in ((self.orders, len(ORDER_COLUMNS)), (self.outbox, len(OUTBOX_COLUMNS)),
                            (self.audit, len(AUDIT_COLUMNS)), (self.calls, len(CALL_COLUMNS)),
                            (self.marks, len(MARK_TYPES))):
            if len(rows) > MAX_VALUES_ROWS:
                args += _columns(rows, width)
            else:
                args += [value for row in rows for value in row]
        if self.response is not None:
            args += self.response
        sql = statement(_shape(len(self.outbox)), _shape(len(self.audit)), self.response is not None,
                        _shape(len(self.orders)), guard, _shape(len(self.calls)), _shape(len(self.marks)),
                        tuple(sql for sql, _ in self.updates))
        try:
            if guard is None and not self.orders:
                await connection.execute(sql, *args)
                return
            claimed = await connection.fetchval(sql, *args)
        except asyncpg.LockNotAvailableError:
            if self.claim is None:
                raise
            raise KeyNotClaimed(busy=True) from None
        except asyncpg.PostgresError as exc:
            if exc.sqlstate == WRITE_REFUSED:
                raise WriteRefused(str(exc)) from None
            raise
        if not claimed:
            if self.guard is not None:
                raise WriteSkipped("the guarded write found its row changed: nothing was written")
            raise KeyNotClaimed(busy=False)


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


CLAIM = """INSERT INTO idempotency_keys (merchant_id, key, fingerprint, created_at, status_code, response_body)
VALUES ($1::uuid, $2::text, $3::text, now(), $5::int4, $6::bytea)
ON CONFLICT (merchant_id, key) DO UPDATE
    SET fingerprint = EXCLUDED.fingerprint, status_code = EXCLUDED.status_code,
        response_body = EXCLUDED.response_body, created_at = now()
    WHERE idempotency_keys.created_at < now() - make_interval(secs => $4::float8)
RETURNING 1"""


def _parameter_count(sql: str) -> int:
    return max((int(number) for number in re.findall(r"\$(\d+)", sql)), default=0)


@lru_cache(maxsize=128)
def statement(outbox: int, audit: int, response: bool, orders: int = 0, guard: str | None = None,
              calls: int = 0, marks: int = 0, updates: tuple[str, ...] = ()) -> str:
    """`guard`: the claim's or a guard's SQL (parameters from $1), which the other parts
    depend on."""
    parts: list[tuple[str, str]] = []  # (name, sub-statement)
    n = 1
    claim = guard is not None

    def source(count: int, types: tuple[str, ...]) -> str:
        rows = _rows(n, count, types)
        # With a claim, a part writes only if the claim did (the CTEs share one snapshot:
        # they cannot see each other's rows, only what the claim returned).
        return f"SELECT * FROM ({rows}) AS fxp_rows WHERE EXISTS (SELECT FROM fxp_claim)" if claim else rows

    if guard is not None:
        parts.append(("fxp_claim", guard))
        n += _parameter_count(guard)
    for i, update in enumerate(updates):  # each UPDATE ... WHERE id = $k, its parameters moved along
        shifted = re.sub(r"\$(\d+)", lambda number: f"${int(number.group(1)) + n - 1}", update.strip())
        parts.append((f"fxp_update_{i}", shifted + (" AND EXISTS (SELECT FROM fxp_claim)" if claim else "")))
        n += _parameter_count(update)
    orders_first = n  # the orders' first parameter: with arrays, its length is their count
    if orders:
        parts.append(("fxp_orders", f"INSERT INTO orders ({', '.join(ORDER_COLUMNS)}) {source(orders, ORDER_TYPES)} "
                                    "ON CONFLICT DO NOTHING RETURNING 1"))
        n += len(ORDER_TYPES) * (1 if orders < 0 else orders)
    if outbox:
        parts.append(("fxp_outbox", f"INSERT INTO outbox ({', '.join(OUTBOX_COLUMNS)}) {source(outbox, OUTBOX_TYPES)}"))
        n += len(OUTBOX_TYPES) * (1 if outbox < 0 else outbox)
    if audit:
        # ON CONFLICT: as the trail's own INSERT (a batch written again after an interrupted commit)
        parts.append(("fxp_audit", f"INSERT INTO audit_log ({', '.join(AUDIT_COLUMNS)}) "
                                   f"{source(audit, AUDIT_TYPES)} ON CONFLICT (id) DO NOTHING"))
        n += len(AUDIT_TYPES) * (1 if audit < 0 else audit)
    if calls:
        parts.append(("fxp_calls", f"INSERT INTO provider_calls ({', '.join(CALL_COLUMNS)}) {source(calls, CALL_TYPES)}"))
        n += len(CALL_TYPES) * (1 if calls < 0 else calls)
    if marks:
        parts.append(("fxp_marks", f"INSERT INTO processed_events (consumer, event_id) {source(marks, MARK_TYPES)} "
                                   "ON CONFLICT (consumer, event_id) DO NOTHING"))
        n += len(MARK_TYPES) * (1 if marks < 0 else marks)
    if response:
        parts.append(("fxp_response", f"UPDATE idempotency_keys SET status_code = ${n + 2}, response_body = ${n + 3} "
                                      f"WHERE merchant_id = ${n} AND key = ${n + 1}"))
    if claim or orders:
        # The answer: whether the claim got the key (true without one); an insert that was
        # skipped aborts it all. (CASE reaches the function only when it must raise.)
        checks = ["WHEN NOT EXISTS (SELECT FROM fxp_claim) THEN false"] if claim else []
        if orders:
            expected = str(orders) if orders > 0 else f"cardinality(${orders_first}::uuid[])"
            checks.append(f"WHEN (SELECT count(*) FROM fxp_orders) < {expected} THEN fxp_write_refused('orders')")
        final = f"SELECT CASE {' '.join(checks)} ELSE true END"
    elif len(parts) == 1:
        return parts[0][1]
    else:
        *parts, (_, final) = parts
    return f"WITH {', '.join(f'{name} AS ({sql})' for name, sql in parts)} {final}"


# Group commit (app/adapters/db/group_commit.py): the writes of several single-statement
# units, each an insert unit with its own optional claim, in one statement. Every row
# carries its unit's number (`fxp_item`); a unit's rows are written only if its claim got
# the key (or it has none), exactly as each unit's own statement would, so one unit's key
# being another request's leaves the others alone. Any other refusal (a unique key taken,
# a lock timeout, a deadlock) aborts the whole statement: nothing of any unit is written,
# and the caller runs each unit's own statement instead. One constant statement whatever
# the number of units (arrays, unnested), prepared once per connection.
def _batch_part(table: str, columns: tuple[str, ...], types: tuple[str, ...], first: int, suffix: str = "") -> str:
    arrays = ", ".join(f"${first + i}::{kind}[]" for i, kind in enumerate(("int4", *types)))
    return (f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} "
            f"FROM unnest({arrays}) AS fxp_rows(fxp_item, {', '.join(columns)}) "
            f"WHERE fxp_item IN (SELECT fxp_item FROM fxp_ok){suffix}")


_ORDERS_FIRST = 9  # the parameters: $1-$6 the claims, $7 the TTL, $8 the units without a claim
_OUTBOX_FIRST = _ORDERS_FIRST + 1 + len(ORDER_TYPES)
_AUDIT_FIRST = _OUTBOX_FIRST + 1 + len(OUTBOX_TYPES)
BATCH_LOCK_TIMEOUT = "100ms"  # the lock_timeout parameter, after the audit arrays
BATCH = f"""WITH fxp_keys AS (
    SELECT * FROM unnest($1::int4[], $2::uuid[], $3::text[], $4::text[], $5::int4[], $6::bytea[])
        AS fxp_keys(fxp_item, merchant_id, key, fingerprint, status_code, response_body)
    WHERE set_config('lock_timeout', ${_AUDIT_FIRST + 1 + len(AUDIT_TYPES)}::text, true) IS NOT NULL),
fxp_claim AS (
    INSERT INTO idempotency_keys (merchant_id, key, fingerprint, created_at, status_code, response_body)
    SELECT merchant_id, key, fingerprint, now(), status_code, response_body FROM fxp_keys
    ON CONFLICT (merchant_id, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, status_code = EXCLUDED.status_code,
            response_body = EXCLUDED.response_body, created_at = now()
        WHERE idempotency_keys.created_at < now() - make_interval(secs => $7::float8)
    RETURNING merchant_id, key),
fxp_ok AS (
    SELECT fxp_item FROM fxp_keys JOIN fxp_claim USING (merchant_id, key)
    UNION ALL SELECT unnest($8::int4[])),
fxp_orders AS ({_batch_part("orders", ORDER_COLUMNS, ORDER_TYPES, _ORDERS_FIRST, " ON CONFLICT DO NOTHING RETURNING 1")}),
fxp_outbox AS ({_batch_part("outbox", OUTBOX_COLUMNS, OUTBOX_TYPES, _OUTBOX_FIRST)}),
fxp_audit AS ({_batch_part("audit_log", AUDIT_COLUMNS, AUDIT_TYPES, _AUDIT_FIRST, " ON CONFLICT (id) DO NOTHING")})
SELECT CASE WHEN (SELECT count(*) FROM fxp_orders)
                 < (SELECT count(*) FROM unnest(${_ORDERS_FIRST}::int4[]) AS fxp_rows(fxp_item)
                    WHERE fxp_item IN (SELECT fxp_item FROM fxp_ok))
            THEN fxp_write_refused('orders') ELSE true END,
       ARRAY(SELECT fxp_item FROM fxp_ok)"""


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[Any]:
    """Rows as one sequence per column (the statement's arrays)."""
    return list(zip(*rows, strict=True)) if rows else [()] * width


def batchable(writes: CommitWrites) -> bool:
    """Whether a unit's writes can share a group commit: inserts (orders with their outbox
    rows and audit records) and at most a claim, nothing conditional on anything else."""
    return bool(writes.orders) and writes.guard is None and writes.response is None and not (
        writes.updates or writes.calls or writes.marks)


async def run_batch(units: list[CommitWrites], ttl_s: float, connection: asyncpg.Connection) -> list[bool]:
    """Each unit's writes (all `batchable`, their claims' keys distinct), in one statement:
    whether each unit's were written (False: its key is another request's). Raises what
    PostgreSQL raised when the statement as a whole was refused: then nothing was written."""
    claims = [(item, unit.claim[0], unit.claim[1], unit.claim[2], unit.claim[4], unit.claim[5])
              for item, unit in enumerate(units) if unit.claim is not None]
    keyless = [item for item, unit in enumerate(units) if unit.claim is None]
    arrays: list[Any] = _columns(claims, 6)
    for rows, width in (([(item, *row) for item, unit in enumerate(units) for row in unit.orders], len(ORDER_TYPES)),
                        ([(item, *row) for item, unit in enumerate(units) for row in unit.outbox], len(OUTBOX_TYPES)),
                        ([(item, *row) for item, unit in enumerate(units) for row in unit.audit], len(AUDIT_TYPES))):
        arrays += _columns(rows, 1 + width)
    # (its first column is true, or fxp_write_refused() raised instead)
    _, written = await connection.fetchrow(BATCH, *arrays[:6], ttl_s, keyless, *arrays[6:], BATCH_LOCK_TIMEOUT)
    done = set(written)
    return [item in done for item in range(len(units))]

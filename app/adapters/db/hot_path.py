"""Constant SQL for the request hot path, run on the unit of work's own connection.

Piccolo's query builder costs more CPU than the statement itself on these paths (the
benchmark measured ~0.7 ms of a 1.8 ms POST /orders in query building); constant SQL lets
asyncpg reuse one prepared statement per query. Everything else stays on the builder."""

from __future__ import annotations

from typing import Any

import asyncpg
from piccolo.engine.base import Engine

from app.adapters.db.mappers import ATTEMPT_PLAIN_FIELDS

ORDER_COLUMNS = ("id", "merchant_id", "merchant_reference", "status", "amount_minor", "currency", "items",
                 "customer", "description", "attempt_count", "estimated_delivery", "created_at", "updated_at",
                 "status_reason", "user_id")

INSERT_ORDER = f"""
INSERT INTO orders ({", ".join(ORDER_COLUMNS)})
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT DO NOTHING RETURNING id
"""
SELECT_ORDER = f"SELECT {', '.join(ORDER_COLUMNS)} FROM orders WHERE id = $1 AND merchant_id = $2"
SELECT_ORDER_FOR_UPDATE = SELECT_ORDER + " FOR UPDATE"
# A verdict's settle: the attempt and its order in one statement, both row-locked. A join's
# FOR UPDATE locks each joined row in range-table order: the order's first, then the
# attempt's, the one order every path takes them in (test_payment_statements pins it).
SELECT_ORDER_AND_ATTEMPT_FOR_UPDATE = f"""
SELECT {', '.join(f'o.{column}' for column in ORDER_COLUMNS)}, a AS fxp_attempt
FROM orders o JOIN payment_attempts a ON a.order_id = o.id AND a.merchant_id = o.merchant_id
WHERE a.id = $1 FOR UPDATE
"""
UPDATE_ORDER = """
UPDATE orders SET merchant_reference = $2, status = $3, amount_minor = $4, currency = $5, items = $6::jsonb,
    customer = $7::jsonb, description = $8, attempt_count = $9, estimated_delivery = $10, updated_at = $11,
    status_reason = $12
WHERE id = $1
"""
SELECT_ATTEMPTS_OF_ORDER = "SELECT * FROM payment_attempts WHERE order_id = $1 ORDER BY attempt_number"
# A refund of a capture nobody asked for is not the order's money: operators see it instead.
SELECT_REFUNDS_OF_ORDER = ("SELECT * FROM refunds WHERE order_id = $1 AND purpose <> 'unrequested_capture' "
                           "ORDER BY created_at")
# GET /orders/{id}: the order, its attempts and its refunds in one statement (one snapshot,
# one round trip); asyncpg decodes the arrays of row values into records by column name.
SELECT_ORDER_VIEW = f"""
SELECT {', '.join(f'o.{column}' for column in ORDER_COLUMNS)},
    ARRAY(SELECT a FROM payment_attempts a WHERE a.order_id = o.id ORDER BY a.attempt_number) AS fxp_attempts,
    ARRAY(SELECT r FROM refunds r WHERE r.order_id = o.id AND r.purpose <> 'unrequested_capture'
          ORDER BY r.created_at) AS fxp_refunds
FROM orders o WHERE o.id = $1 AND o.merchant_id = $2
"""
# Payment attempts (POST /payments, dispatch, callbacks): mappers.attempt_to_row's columns.
ATTEMPT_COLUMNS = (*ATTEMPT_PLAIN_FIELDS, "status", "amount_minor", "currency", "fraud_action", "fraud_rule",
                   "fraud_score", "fraud_reasons")
INSERT_ATTEMPT = (f"INSERT INTO payment_attempts ({', '.join(ATTEMPT_COLUMNS)}) VALUES ("
                  + ", ".join(f"${i}::jsonb" if column == "fraud_reasons" else f"${i}"
                              for i, column in enumerate(ATTEMPT_COLUMNS, start=1)) + ")")
UPDATE_ATTEMPT = ("UPDATE payment_attempts SET "
                  + ", ".join(f"{column} = ${i}::jsonb" if column == "fraud_reasons" else f"{column} = ${i}"
                              for i, column in enumerate(ATTEMPT_COLUMNS, start=1) if column != "id")
                  + f" WHERE id = ${ATTEMPT_COLUMNS.index('id') + 1}")
# An attempt still INITIATED (never sent on, no reference) marked PENDING: the provider's
# "pending" to our purchase, the only change it makes (PaymentService.settle's fast path).
MARK_PENDING = ("UPDATE payment_attempts SET status = 'PENDING', provider_reference = $2, updated_at = $3"
                " WHERE id = $1 AND status = 'INITIATED' AND provider_reference IS NULL RETURNING 1")
SELECT_ATTEMPT = {  # (by merchant, locked)
    (False, False): "SELECT * FROM payment_attempts WHERE id = $1",
    (False, True): "SELECT * FROM payment_attempts WHERE id = $1 FOR UPDATE",
    (True, False): "SELECT * FROM payment_attempts WHERE id = $1 AND merchant_id = $2",
    (True, True): "SELECT * FROM payment_attempts WHERE id = $1 AND merchant_id = $2 FOR UPDATE",
}
INSERT_CALLBACK = ("INSERT INTO callback_inbox (provider, event_id, received_at) VALUES ($1, $2, $3) "
                   "ON CONFLICT DO NOTHING RETURNING id")
INSERT_OUTBOX = """
INSERT INTO outbox (id, event_type, aggregate_id, merchant_id, payload, correlation_id, occurred_at, traceparent)
VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)
"""


def connection(engine: Engine[Any]) -> asyncpg.Connection:
    """The connection of the transaction this task is in (the unit of work's)."""
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("hot-path statements run inside a unit of work")
    return transaction.connection


async def one_statement(engine: Engine[Any], method: str, sql: str, *args: Any, join: bool = True) -> Any:
    """One statement through asyncpg's `method` (execute, fetchval, fetchrow...): on the
    connection of the unit of work this task is in (`join`), else on a pooled connection,
    where a single statement commits on its own (no BEGIN/COMMIT round trips), else, with
    no pool started (scripts), on a connection of its own. `join=False`: never in the
    caller's transaction (a write whose failure must not abort it, or that must commit
    whatever the caller does)."""
    if join and (transaction := engine.current_transaction.get()) is not None:
        return await getattr(transaction.connection, method)(sql, *args)
    pool: Any = getattr(engine, "pool", None)
    if pool is not None:
        async with pool.acquire() as connection:
            return await getattr(connection, method)(sql, *args)
    connection = await engine.get_new_connection()  # type: ignore[attr-defined]
    try:
        return await getattr(connection, method)(sql, *args)
    finally:
        await connection.close()


def order_values(row: dict[str, Any]) -> list[Any]:
    return [row[column] for column in ORDER_COLUMNS]


def attempt_values(row: dict[str, Any]) -> list[Any]:
    return [row[column] for column in ATTEMPT_COLUMNS]

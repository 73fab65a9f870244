"""Migration 0135: the one-column CHECK constraints of the order and payment tables are
domain constraints. The same values are refused, on INSERT and on UPDATE, with the same
SQLSTATE (check_violation); the tables written per order and per payment keep no
one-column table CHECK (those are what PostgreSQL parses again for every write); and the
partial indexes over payment_attempts.status, rebuilt by the type change, still serve the
queries written against them. Real PostgreSQL."""

from __future__ import annotations

import re
import uuid

import asyncpg
import pytest

from tests.integration.test_orders_api import create_order

# (table, column, domain, a value the domain refuses)
DOMAIN_COLUMNS = [
    ("orders", "status", "fxp_order_status", "PAID"),
    ("orders", "amount_minor", "fxp_amount_minor", 0),
    ("payment_attempts", "status", "fxp_attempt_status", "DONE"),
    ("payment_attempts", "amount_minor", "fxp_amount_minor", -1),
    ("payment_attempts", "fraud_action", "fxp_fraud_action", "maybe"),
    ("payment_attempts", "fraud_score", "fxp_fraud_score", 101),
    ("audit_log", "event_type", "fxp_audit_event_type", "order_deletion"),
    ("audit_log", "status", "fxp_audit_status", "partial"),
    ("audit_log", "actor_kind", "fxp_actor_kind", "robot"),
    ("provider_calls", "operation", "fxp_provider_operation", "capture"),
    ("provider_calls", "latency_ms", "fxp_latency_ms", -5),
]


async def _fetch(container, sql: str, *args):
    async with container.engine.transaction() as transaction:
        return await transaction.connection.fetch(sql, *args)


async def test_each_column_is_typed_with_its_domain(container):
    rows = await _fetch(container, "SELECT table_name, column_name, domain_name FROM information_schema.columns"
                                   " WHERE table_schema = 'public' AND domain_name IS NOT NULL")
    typed = {(row["table_name"], row["column_name"]): row["domain_name"] for row in rows}
    assert {(table, column): domain for table, column, domain, _ in DOMAIN_COLUMNS}.items() <= typed.items()


async def test_no_one_column_table_check_left_on_the_hot_tables(container):
    rows = await _fetch(container, "SELECT conrelid::regclass::text AS t, conname FROM pg_constraint WHERE contype = 'c'"
                                   " AND conrelid = ANY('{orders,payment_attempts,audit_log,provider_calls}'::regclass[])")
    assert [(row["t"], row["conname"]) for row in rows] == []


@pytest.mark.parametrize(("table", "column", "domain", "bad"), DOMAIN_COLUMNS)
async def test_the_domain_refuses_what_the_table_check_refused(container, table, column, domain, bad):
    with pytest.raises(asyncpg.CheckViolationError) as refused:
        await _fetch(container, f"SELECT $1::{domain}", bad)
    assert refused.value.sqlstate == "23514" and refused.value.constraint_name == f"{domain}_check"


async def test_writes_of_a_refused_value_fail_and_change_nothing(client, container, merchant):
    order = await create_order(client, merchant)
    order_id = uuid.UUID(order["id"])
    for column, bad in (("status", "PAID"), ("amount_minor", 0)):
        with pytest.raises(asyncpg.CheckViolationError):
            await _fetch(container, f"UPDATE orders SET {column} = $2 WHERE id = $1", order_id, bad)
    with pytest.raises(asyncpg.CheckViolationError):
        await _fetch(container, "INSERT INTO orders (id, merchant_id, status, amount_minor, currency, created_at,"
                                " updated_at) VALUES ($1, $2, 'CREATED', -10, 'USD', now(), now())",
                     uuid.uuid4(), uuid.UUID(merchant.id))
    with pytest.raises(asyncpg.CheckViolationError):
        await _fetch(container, "INSERT INTO provider_calls (provider, operation, outcome, latency_ms)"
                                " VALUES ('sandbox', 'purchase', 'success', -1)")
    row = (await _fetch(container, "SELECT status, amount_minor FROM orders WHERE id = $1", order_id))[0]
    assert (row["status"], row["amount_minor"]) == ("CREATED", order["amount"])
    # The good values still go in (and come back as plain strings and ints).
    row = (await _fetch(container, "UPDATE orders SET status = $2 WHERE id = $1 RETURNING status, amount_minor",
                        order_id, "ORDER_CANCELLED"))[0]
    assert (row["status"], row["amount_minor"]) == ("ORDER_CANCELLED", order["amount"])


# The reconciliation and review pollers' queries as Piccolo sends them (the statuses as
# parameters: they resolve to the base type, so the predicates are still proved). Which
# partial index wins depends on the statistics: any whose predicate the query implies.
@pytest.mark.parametrize(("query", "args", "indexes"), [
    ("SELECT id FROM payment_attempts WHERE merchant_id = $1 AND card_fingerprint = $2 AND status = 'FAILED'"
     " AND updated_at >= now()", ("fp",), {"payment_attempts_card_failures_idx"}),
    ("SELECT id FROM payment_attempts WHERE status IN ($2, $3) AND updated_at < now() AND merchant_id <> $1"
     " ORDER BY updated_at LIMIT 10", ("INITIATED", "PENDING"),
     {"payment_attempts_unsettled_idx", "payment_attempts_one_in_flight"}),
    ("SELECT id FROM payment_attempts WHERE status = $2 AND updated_at <= now() AND merchant_id <> $1"
     " ORDER BY updated_at LIMIT 10", ("REQUIRES_REVIEW",),
     {"payment_attempts_review_idx", "payment_attempts_one_in_flight"}),
])
async def test_partial_status_indexes_still_serve_their_queries(container, query, args, indexes):
    async with container.engine.transaction() as transaction:
        await transaction.connection.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(row[0] for row in await transaction.connection.fetch(f"EXPLAIN {query}", uuid.uuid4(), *args))
    used = set(re.findall(r"Index (?:Only )?Scan(?: Backward)? using (\w+)", plan)) | set(
        re.findall(r"Bitmap Index Scan on (\w+)", plan))
    assert used and used <= indexes, plan

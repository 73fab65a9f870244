"""What must hold after every step of the payments state machine, read from PostgreSQL
and from the sandbox gateway's own ledger (what really moved money)."""

from __future__ import annotations

import uuid
from collections import defaultdict

from tests.integration.model.harness import Stack

PAID = {"PAYMENT_DONE", "FULFILLMENT_STARTED"}
IN_FLIGHT = {"INITIATED", "PENDING"}


async def check_invariants(stack: Stack, order_ids: list[uuid.UUID]) -> None:
    if not order_ids:
        return
    orders = {r["id"]: r for r in await stack.fetch("SELECT id, status FROM orders WHERE id = ANY($1)", order_ids)}
    attempts = defaultdict(list)
    for row in await stack.fetch("SELECT id, order_id, status, amount_minor FROM payment_attempts "
                                 "WHERE order_id = ANY($1) ORDER BY attempt_number", order_ids):
        attempts[row["order_id"]].append(row)
    refunded_in_db = {r["order_id"]: r["total"] for r in await stack.fetch(
        "SELECT order_id, sum(amount_minor) AS total FROM refunds WHERE order_id = ANY($1) AND status = 'SUCCESS' "
        "GROUP BY order_id", order_ids)}
    last_event = {r["aggregate_id"]: r["status"] for r in await stack.fetch(
        "SELECT DISTINCT ON (aggregate_id) aggregate_id, payload->>'status' AS status FROM outbox "
        "WHERE aggregate_id = ANY($1) AND payload ? 'status' ORDER BY aggregate_id, seq DESC", order_ids)}
    ledger = {p.idempotency_key: p for p in stack.gateway.ledger.payments.values()}
    for order_id, order in orders.items():
        status, tries = order["status"], attempts[order_id]
        successes = [a for a in tries if a["status"] == "SUCCESS"]
        where = f"order {order_id} {status}, attempts {[a['status'] for a in tries]}"
        assert len(successes) <= 1, f"two successful attempts: {where}"
        assert last_event.get(order_id) == status, f"no outbox event for the last change ({last_event.get(order_id)}): {where}"
        if status == "CREATED":
            assert not tries, where
        if status == "PAYMENT_IN_PROGRESS":
            assert tries and tries[-1]["status"] in IN_FLIGHT, where
        if status == "PAYMENT_FAILED":
            assert tries and not successes and tries[-1]["status"] == "FAILED", where
        if status in PAID:
            assert successes, where
        charges = [ledger[str(a["id"])] for a in tries if str(a["id"]) in ledger]
        assert all(c.charges <= 1 for c in charges), f"charged twice at the gateway: {where}"
        captured = sum(c.amount for c in charges if c.status == "succeeded")
        refunded = sum(c.amount_refunded for c in charges)
        assert refunded == refunded_in_db.get(order_id, 0), f"refunds: gateway {refunded} vs ours: {where}"
        net = captured - refunded
        if status in PAID:
            assert net == successes[0]["amount_minor"], f"captured-refunded {net}: {where}"
        elif status != "PAYMENT_IN_PROGRESS":  # in flight, the gateway may know before we do
            assert net == 0, f"money kept ({net}) by an order that is not paid: {where}"

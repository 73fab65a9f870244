"""Business metrics for Prometheus, per process (API and every worker process expose
their own; see README "Metrics"). Counted where the fact becomes true:

- payments and refunds: from the domain events a unit of work committed (`count_committed`),
  so a rolled-back change never counts and the domain stays free of metrics;
- webhook deliveries: where each attempt is logged (app/adapters/notify/delivery_log.py);
- notification deliveries (email, SMS): `NOTIFICATION_DELIVERIES`, by channel and outcome;
- circuit breakers: on every state change (app/adapters/providers/resilience.py);
- outbox lag and queue depth: read from PostgreSQL and the broker when scraped
  (`refresh_backlog`): they describe the whole system, not one process;
- fraud decisions: app/adapters/fraud/metrics.py (fxp_fraud_decisions_total)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge

from app.domain.events import DomainEvent

PAYMENTS = Counter("fxp_payments", "Payment attempts by provider and outcome (failed: by failure code)",
                   ["provider", "outcome", "failure_code"])
REFUNDS = Counter("fxp_refunds", "Refunds by purpose and outcome", ["purpose", "outcome"])
WEBHOOK_DELIVERIES = Counter("fxp_webhook_deliveries", "Merchant webhook delivery attempts by outcome", ["outcome"])
NOTIFICATION_DELIVERIES = Counter("fxp_notification_deliveries", "Shopper notification deliveries (email, SMS)",
                                  ["channel", "outcome"])
OUTBOX_LAG = Gauge("fxp_outbox_lag_seconds", "Age of the oldest unpublished outbox event (0: none waiting)")
OUTBOX_UNPUBLISHED = Gauge("fxp_outbox_unpublished", "Outbox events not yet relayed (counted up to 100000)")
QUEUE_DEPTH = Gauge("fxp_queue_depth", "Messages waiting in a broker queue", ["queue"])
CIRCUIT_STATE = Gauge("fxp_circuit_breaker_state", "Provider circuit breaker: 0 closed, 1 half-open, 2 open",
                      ["provider"])
AUDIT_DROPPED = Counter("fxp_audit_records_dropped", "Audit records dropped: PostgreSQL unreachable too long")

STATES = {"closed": 0, "half_open": 1, "open": 2}

_PAYMENT_OUTCOMES = {"payment.requested": "requested", "payment.succeeded": "succeeded",
                     "payment.failed": "failed", "payment.review_required": "review_required"}
_REFUND_OUTCOMES = {"refund.requested": "requested", "refund.succeeded": "succeeded", "refund.failed": "failed"}


def count_committed(events: Iterable[DomainEvent]) -> None:
    for event in events:
        payload: dict[str, Any] = event.payload
        if outcome := _PAYMENT_OUTCOMES.get(event.type):
            PAYMENTS.labels(payload.get("provider") or "unknown", outcome, payload.get("failure_code") or "").inc()
        elif outcome := _REFUND_OUTCOMES.get(event.type):
            REFUNDS.labels(payload.get("purpose") or "unknown", outcome).inc()


def circuit_state(provider: str, state: str) -> None:
    CIRCUIT_STATE.labels(provider).set(STATES.get(state, 2))


OLDEST_UNPUBLISHED = ("SELECT occurred_at, EXTRACT(EPOCH FROM clock_timestamp() - occurred_at) AS age FROM outbox "
                      "WHERE published_at IS NULL ORDER BY seq LIMIT 1")
UNPUBLISHED = "SELECT count(*) FROM (SELECT 1 FROM outbox WHERE published_at IS NULL LIMIT 100000) waiting"


async def refresh_backlog(connection: Any, redis: Any, namespace: str, queues: Iterable[str]) -> None:
    """Outbox lag from PostgreSQL (`connection`: asyncpg), queue depths from the Redis
    broker's lists (`redis`: redis.asyncio, None for another broker)."""
    oldest = await connection.fetchrow(OLDEST_UNPUBLISHED)
    OUTBOX_LAG.set(max(float(oldest["age"]), 0.0) if oldest else 0.0)
    OUTBOX_UNPUBLISHED.set(await connection.fetchval(UNPUBLISHED))
    if redis is None:
        return
    names = sorted(set(queues))
    async with redis.pipeline(transaction=False) as pipe:
        for queue in names:
            pipe.llen(f"{namespace}:{queue}")
            pipe.llen(f"{namespace}:{queue}.DQ")  # delayed (retries waiting for their time)
        depths = await pipe.execute()
    for index, queue in enumerate(names):
        QUEUE_DEPTH.labels(queue).set(depths[2 * index])
        QUEUE_DEPTH.labels(f"{queue}.DQ").set(depths[2 * index + 1])

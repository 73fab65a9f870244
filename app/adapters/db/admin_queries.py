"""The operator's read model: searches across merchants, one order's timeline, the
overview figures. Read-only SQL over the tables the use cases write; every search pages
newest first on (created_at, id) and each filter has an index (migration 0060) so none
scans a whole table."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from piccolo.engine.postgres import PostgresEngine

MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """Every field optional; all given ones must hold (AND). `id` matches an order, or the
    order of a payment attempt or refund with that id."""

    id: uuid.UUID | None = None
    merchant_id: uuid.UUID | None = None
    merchant_reference: str | None = None
    status: str | None = None
    provider: str | None = None
    amount_min: int | None = None
    amount_max: int | None = None
    currency: str | None = None
    card_last4: str | None = None
    customer_email: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None  # exclusive
    after: tuple[datetime, uuid.UUID] | None = None  # the cursor: the last row of the previous page
    limit: int = 50


@dataclass
class _Where:
    clauses: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add(self, clause: str, *values: Any) -> None:
        """`clause` with `{}` (or `{0}`, `{1}`: to use one twice) where each value goes."""
        names = []
        for value in values:
            self.args.append(value)
            names.append(f"${len(self.args)}")
        self.clauses.append(clause.format(*names))

    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "true"


ORDER_COLUMNS = """
SELECT o.id, o.merchant_id, m.name AS merchant_name, o.merchant_reference, o.status, o.amount_minor, o.currency,
       o.customer ->> 'email' AS customer_email, o.attempt_count, o.created_at, o.updated_at,
       a.provider, a.status AS payment_status, a.card_last4
FROM orders o
JOIN merchants m ON m.id = o.merchant_id
LEFT JOIN LATERAL (SELECT provider, status, card_last4 FROM payment_attempts
                   WHERE order_id = o.id ORDER BY attempt_number DESC LIMIT 1) a ON true
"""

PAYMENT_COLUMNS = """
SELECT a.id, a.order_id, a.merchant_id, m.name AS merchant_name, o.merchant_reference, a.provider, a.status,
       a.amount_minor, a.currency, a.attempt_number, a.card_brand, a.card_last4, a.failure_code,
       a.fraud_action, a.fraud_score, o.customer ->> 'email' AS customer_email, a.created_at, a.updated_at
FROM payment_attempts a
JOIN orders o ON o.id = a.order_id
JOIN merchants m ON m.id = a.merchant_id
"""
AUDIT_COLUMNS = ("SELECT id, occurred_at, event_type, status, action, actor_kind, actor_id, entities, error_code"
                 " FROM audit_log")


class AdminQueries:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine

    async def _fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        async with self._engine.transaction() as transaction:
            rows = await transaction.connection.fetch(sql, *args)
        return [dict(row) for row in rows]

    async def search_orders(self, f: SearchFilter) -> tuple[list[dict[str, Any]], bool]:
        """A page of orders, newest first, and whether more follow."""
        where = _Where()
        if f.id is not None:
            where.add("(o.id = {0} OR o.id IN (SELECT order_id FROM payment_attempts WHERE id = {0})"
                      " OR o.id IN (SELECT order_id FROM refunds WHERE id = {0}))", f.id)
        self._common(where, "o", f)
        if f.merchant_reference is not None:
            where.add("o.merchant_reference = {}", f.merchant_reference)
        if f.customer_email is not None:
            where.add("lower(o.customer ->> 'email') = {}", f.customer_email.lower())
        if f.provider is not None or f.card_last4 is not None:
            inner = _Where(args=where.args)
            inner.add("p.order_id = o.id")
            if f.provider is not None:
                inner.add("p.provider = {}", f.provider)
            if f.card_last4 is not None:
                inner.add("p.card_last4 = {}", f.card_last4)
            where.clauses.append(f"EXISTS (SELECT 1 FROM payment_attempts p WHERE {inner.sql()})")
        return await self._page(ORDER_COLUMNS, "o", where, f.limit)

    async def search_payments(self, f: SearchFilter) -> tuple[list[dict[str, Any]], bool]:
        """A page of payment attempts, newest first, and whether more follow."""
        where = _Where()
        if f.id is not None:
            where.add("(a.id = {0} OR a.order_id = {0})", f.id)
        self._common(where, "a", f)
        if f.provider is not None:
            where.add("a.provider = {}", f.provider)
        if f.card_last4 is not None:
            where.add("a.card_last4 = {}", f.card_last4)
        if f.merchant_reference is not None:
            where.add("o.merchant_reference = {}", f.merchant_reference)
        if f.customer_email is not None:
            where.add("lower(o.customer ->> 'email') = {}", f.customer_email.lower())
        return await self._page(PAYMENT_COLUMNS, "a", where, f.limit)

    @staticmethod
    def _common(where: _Where, t: str, f: SearchFilter) -> None:
        if f.merchant_id is not None:
            where.add(f"{t}.merchant_id = {{}}", f.merchant_id)
        if f.status is not None:
            where.add(f"{t}.status = {{}}", f.status)
        if f.amount_min is not None:
            where.add(f"{t}.amount_minor >= {{}}", f.amount_min)
        if f.amount_max is not None:
            where.add(f"{t}.amount_minor <= {{}}", f.amount_max)
        if f.currency is not None:
            where.add(f"{t}.currency = {{}}", f.currency)
        if f.created_from is not None:
            where.add(f"{t}.created_at >= {{}}", f.created_from)
        if f.created_to is not None:
            where.add(f"{t}.created_at < {{}}", f.created_to)
        if f.after is not None:
            where.add(f"({t}.created_at, {t}.id) < ({{}}, {{}})", *f.after)

    async def _page(self, columns: str, t: str, where: _Where, limit: int) -> tuple[list[dict[str, Any]], bool]:
        limit = max(1, min(limit, MAX_PAGE))
        rows = await self._fetch(f"{columns} WHERE {where.sql()} ORDER BY {t}.created_at DESC, {t}.id DESC"
                                 f" LIMIT {limit + 1}", *where.args)
        return rows[:limit], len(rows) > limit

    async def order(self, order_id: uuid.UUID) -> dict[str, Any] | None:
        rows = await self._fetch(f"{ORDER_COLUMNS} WHERE o.id = $1", order_id)
        return rows[0] if rows else None

    async def timeline(self, order_id: uuid.UUID) -> list[dict[str, Any]] | None:
        """Everything that happened to an order, oldest first: its outbox events (state
        changes of the order, its attempts and refunds), attempts, provider calls and
        callbacks, refunds, webhook jobs and delivery attempts, shopper email/SMS deliveries and
        their attempts, audit records. None: no order."""
        if await self.order(order_id) is None:
            return None
        ids = [order_id]
        attempts = await self._fetch(
            "SELECT id, attempt_number, provider, status, amount_minor, currency, card_brand, card_last4,"
            " failure_code, failure_message, fraud_action, fraud_rule, fraud_score, created_at, updated_at"
            " FROM payment_attempts WHERE order_id = $1 ORDER BY attempt_number", order_id)
        refunds = await self._fetch(
            "SELECT id, payment_id, provider, purpose, status, amount_minor, currency, attempts, failure_code,"
            " last_error, created_at, updated_at FROM refunds WHERE order_id = $1 ORDER BY created_at", order_id)
        ids += [row["id"] for row in attempts] + [row["id"] for row in refunds]
        events = await self._fetch(
            "SELECT id, event_type, aggregate_id, payload, occurred_at, published_at FROM outbox"
            " WHERE aggregate_id = ANY($1::uuid[]) ORDER BY occurred_at, seq", ids)
        event_ids = [row["id"] for row in events]
        calls = await self._fetch(
            "SELECT provider, operation, attempt_id, refund_id, outcome, failure_code, latency_ms, created_at"
            " FROM provider_calls WHERE attempt_id = ANY($1::uuid[]) OR refund_id = ANY($1::uuid[])"
            " ORDER BY created_at, id", ids[1:])
        deliveries = await self._fetch(
            "SELECT event_id, attempt, url, status_code, latency_ms, error, created_at FROM webhook_deliveries"
            " WHERE event_id = ANY($1::uuid[]) ORDER BY created_at, id", event_ids)
        jobs = await self._fetch(
            "SELECT event_id, status, attempt, resend, next_attempt_at, last_error, created_at, updated_at"
            " FROM webhook_schedule WHERE event_id = ANY($1::uuid[])", event_ids)
        entries = [_entry(e["occurred_at"], "event", e["event_type"], e, payload=_json(e["payload"]))
                   for e in events]
        entries += [_entry(a["created_at"], "attempt", f"attempt {a['attempt_number']} via {a['provider']}: "
                           f"{a['status']}", a) for a in attempts]
        entries += [_entry(c["created_at"], "provider_call", f"{c['provider']} {c['operation']}: {c['outcome']}"
                           f" in {c['latency_ms']} ms", c) for c in calls]
        entries += [_entry(r["created_at"], "refund", f"{r['purpose']} refund via {r['provider']}: {r['status']}", r)
                    for r in refunds]
        entries += [_entry(d["created_at"], "webhook_delivery",
                           f"webhook attempt {d['attempt']}: {d['status_code'] or d['error']}", d) for d in deliveries]
        entries += [_entry(j["updated_at"], "webhook_job", f"webhook job {j['status']}", j) for j in jobs]
        entries += await self._notifications(order_id)
        entries += await self._audit(order_id, [a["id"] for a in attempts], [r["id"] for r in refunds])
        entries.sort(key=lambda entry: entry["at"])
        return entries

    async def _notifications(self, order_id: uuid.UUID) -> list[dict[str, Any]]:
        """The order's shopper email/SMS deliveries (when planned) and each attempt."""
        jobs = await self._fetch(
            "SELECT id, event_id, category, channel, recipient, status, attempt, last_error, provider_message_id,"
            " created_at, updated_at FROM notification_deliveries WHERE order_id = $1", order_id)
        attempts = await self._fetch(
            "SELECT a.delivery_id, d.channel, d.category, a.attempt, a.outcome, a.latency_ms, a.error,"
            " a.provider_message_id, a.created_at FROM notification_attempts a"
            " JOIN notification_deliveries d ON d.id = a.delivery_id WHERE d.order_id = $1", order_id)
        return ([_entry(j["created_at"], "notification", f"{j['channel']} {j['category']} to {j['recipient']}: "
                        f"{j['status']}", j) for j in jobs]
                + [_entry(a["created_at"], "notification_attempt", f"{a['channel']} {a['category']} attempt "
                          f"{a['attempt']}: {a['outcome']} in {a['latency_ms']} ms", a) for a in attempts])

    async def _audit_present(self) -> bool:
        """Whether the audit trail's table exists (it arrives in its own migration)."""
        return bool((await self._fetch("SELECT to_regclass('audit_log') IS NOT NULL AS present"))[0]["present"])

    async def _audit(self, order_id: uuid.UUID, attempt_ids: list[uuid.UUID],
                     refund_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
        """Audit records naming the order, one of its payments or refunds (containment
        queries: the audit table's GIN index serves each)."""
        if not await self._audit_present():
            return []
        wanted = ([{"order": str(order_id)}] + [{"payment": str(i)} for i in attempt_ids]
                  + [{"refund": str(i)} for i in refund_ids])
        where = " OR ".join(f"entities @> ${n}::jsonb" for n in range(1, len(wanted) + 1))
        rows = await self._fetch(f"{AUDIT_COLUMNS} WHERE {where} ORDER BY occurred_at, id",
                                 *[json.dumps(w) for w in wanted])
        return [_entry(r["occurred_at"], "audit", f"{r['event_type']} {r['action'] or ''} by {r['actor_kind']}: "
                       f"{r['status']}".replace("  ", " "), r, entities=_json(r["entities"])) for r in rows]

    async def audit_log(self, limit: int = 100) -> list[dict[str, Any]] | None:
        """The newest audit records; None while the audit table does not exist."""
        if not await self._audit_present():
            return None
        rows = await self._fetch(f"{AUDIT_COLUMNS} ORDER BY occurred_at DESC, id DESC LIMIT $1", limit)
        return [{**r, "entities": _json(r["entities"])} for r in rows]

    async def overview(self, day_start: datetime, now: datetime) -> dict[str, Any]:
        """Today's (UTC) volume and success rate with hourly buckets, outbox lag, open
        reviews and failed webhook jobs."""
        volume = await self._fetch(
            "SELECT currency, count(*) AS orders, sum(amount_minor)::bigint AS amount_minor FROM orders"
            " WHERE created_at >= $1 AND created_at < $2 GROUP BY currency ORDER BY currency", day_start, now)
        hours = await self._fetch(
            "SELECT date_trunc('hour', created_at, 'UTC') AS hour, count(*) AS attempts,"
            " count(*) FILTER (WHERE status = 'SUCCESS') AS succeeded,"
            " count(*) FILTER (WHERE status = 'FAILED') AS failed"
            " FROM payment_attempts WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1",
            day_start, now)
        lag = (await self._fetch("SELECT count(*) AS unpublished, min(occurred_at) AS oldest FROM outbox"
                                 " WHERE published_at IS NULL"))[0]
        reviews = await self._fetch("SELECT count(*) AS n FROM payment_attempts WHERE status = 'REQUIRES_REVIEW'")
        dead_webhooks = await self._fetch("SELECT count(*) AS n FROM webhook_schedule WHERE status = 'dead'")
        succeeded = sum(h["succeeded"] for h in hours)
        decided = succeeded + sum(h["failed"] for h in hours)
        buckets = {h["hour"]: h for h in hours}
        hourly = []
        for hour in range(24):
            start = day_start + timedelta(hours=hour)
            if start > now:
                break
            row = buckets.get(start, {})
            hourly.append({"hour": start, "attempts": row.get("attempts", 0), "succeeded": row.get("succeeded", 0),
                           "failed": row.get("failed", 0)})
        return {
            "day_start": day_start, "volume": volume, "attempts": sum(h["attempts"] for h in hours),
            "succeeded": succeeded, "success_rate": round(succeeded / decided, 4) if decided else None,
            "hourly": hourly, "outbox_unpublished": lag["unpublished"],
            "outbox_lag_s": round((now - lag["oldest"]).total_seconds(), 1) if lag["oldest"] else 0.0,
            "open_reviews": reviews[0]["n"], "dead_webhooks": dead_webhooks[0]["n"],
        }

    async def merchants(self, limit: int = 200) -> list[dict[str, Any]]:
        return await self._fetch(
            "SELECT id, name, webhook_url, webhook_enabled, created_at FROM merchants ORDER BY created_at DESC"
            " LIMIT $1", limit)

    async def webhook_jobs(self, status: str | None, limit: int = 100) -> list[dict[str, Any]]:
        """Webhook jobs (one per event), most recently changed first, with their last delivery."""
        where = "WHERE s.status = $2" if status else ""
        args: list[Any] = [limit] + ([status] if status else [])
        return await self._fetch(
            "SELECT s.event_id, s.merchant_id, m.name AS merchant_name, o.event_type, s.status, s.attempt,"
            " s.next_attempt_at, s.last_error, s.updated_at, d.status_code AS last_status_code,"
            " d.latency_ms AS last_latency_ms FROM webhook_schedule s JOIN merchants m ON m.id = s.merchant_id"
            " JOIN outbox o ON o.id = s.event_id"
            " LEFT JOIN LATERAL (SELECT status_code, latency_ms FROM webhook_deliveries WHERE event_id = s.event_id"
            "                    ORDER BY attempt DESC LIMIT 1) d ON true"
            f" {where} ORDER BY s.updated_at DESC LIMIT $1", *args)

    async def recent_deliveries(self, limit: int = 100) -> list[dict[str, Any]]:
        """Webhook delivery attempts, newest first (the log is append-only: newest = highest id)."""
        return await self._fetch(
            "SELECT d.event_id, d.merchant_id, m.name AS merchant_name, d.attempt, d.url, d.status_code,"
            " d.latency_ms, d.error, d.created_at FROM webhook_deliveries d JOIN merchants m ON m.id = d.merchant_id"
            " ORDER BY d.id DESC LIMIT $1", limit)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _entry(at: datetime | None, kind: str, summary: str, row: dict[str, Any], **extra: Any) -> dict[str, Any]:
    detail = {k: v for k, v in row.items() if k not in ("payload", "entities")}
    return {"at": at, "kind": kind, "summary": summary, "detail": {**detail, **extra}}

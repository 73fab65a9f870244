"""The provider report: per provider and UTC bucket (hour or day), the attempts created in
the bucket, how many were decided each way, captured amounts per currency, refunds that
succeeded (bucketed by when they were asked for), failure codes and provider latency.

Convention: every bucket is a UTC hour or UTC day ([start, start + 1 bucket)), whatever
offset the caller's bounds were given in. Success rate = succeeded / (succeeded + failed):
attempts still in flight or held for review count as attempts but not in the rate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine

ATTEMPTS = """
SELECT date_trunc($3, created_at, 'UTC') AS bucket, provider, count(*) AS attempts,
       count(*) FILTER (WHERE status = 'SUCCESS') AS succeeded,
       count(*) FILTER (WHERE status = 'FAILED') AS failed
FROM payment_attempts WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2
"""
CAPTURED = """
SELECT date_trunc($3, created_at, 'UTC') AS bucket, provider, currency, sum(amount_minor) AS amount_minor
FROM payment_attempts WHERE created_at >= $1 AND created_at < $2 AND status = 'SUCCESS' GROUP BY 1, 2, 3
"""
FAILURES = """
SELECT date_trunc($3, created_at, 'UTC') AS bucket, provider, coalesce(failure_code, 'unknown') AS code,
       count(*) AS n
FROM payment_attempts WHERE created_at >= $1 AND created_at < $2 AND status = 'FAILED' GROUP BY 1, 2, 3
"""
REFUNDS = """
SELECT date_trunc($3, created_at, 'UTC') AS bucket, provider, currency, count(*) AS n, sum(amount_minor) AS amount_minor
FROM refunds WHERE created_at >= $1 AND created_at < $2 AND status = 'SUCCESS' GROUP BY 1, 2, 3
"""
LATENCY = """
SELECT date_trunc($3, created_at, 'UTC') AS bucket, provider,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms) AS p95
FROM provider_calls WHERE created_at >= $1 AND created_at < $2 AND operation = 'purchase' GROUP BY 1, 2
"""


@dataclass
class ReportRow:
    bucket: datetime
    provider: str
    attempts: int = 0
    succeeded: int = 0
    failed: int = 0
    captured: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    refunds: int = 0
    refunded: dict[str, int] = field(default_factory=dict)
    failure_codes: dict[str, int] = field(default_factory=dict)
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None

    @property
    def success_rate(self) -> float | None:
        decided = self.succeeded + self.failed
        return round(self.succeeded / decided, 4) if decided else None


class ProviderReports:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine

    async def providers(self, start: datetime, end: datetime, bucket: str) -> list[ReportRow]:
        """Rows for [start, end), oldest bucket first, then by provider."""
        if bucket not in ("hour", "day"):
            raise ValueError(bucket)
        rows: dict[tuple[datetime, str], ReportRow] = {}

        def row(r: Any) -> ReportRow:
            key = (r["bucket"], r["provider"])
            if key not in rows:
                rows[key] = ReportRow(r["bucket"], r["provider"])
            return rows[key]

        async with self._engine.transaction() as transaction:
            fetch = transaction.connection.fetch
            for r in await fetch(ATTEMPTS, start, end, bucket):
                target = row(r)
                target.attempts, target.succeeded, target.failed = r["attempts"], r["succeeded"], r["failed"]
            for r in await fetch(CAPTURED, start, end, bucket):
                row(r).captured[r["currency"]] = int(r["amount_minor"])
            for r in await fetch(FAILURES, start, end, bucket):
                row(r).failure_codes[r["code"]] = r["n"]
            for r in await fetch(REFUNDS, start, end, bucket):
                target = row(r)
                target.refunds += r["n"]
                target.refunded[r["currency"]] = int(r["amount_minor"])
            for r in await fetch(LATENCY, start, end, bucket):
                target = row(r)
                target.latency_p50_ms, target.latency_p95_ms = round(r["p50"], 1), round(r["p95"], 1)
        return [rows[key] for key in sorted(rows)]

"""The operator's reads on a big database (a probe scenario, on demand):
`make bench BENCH_ARGS="--server granian --scenarios admin.dashboard"`.

Seeds 100,000 orders over the last 30 days across 20 merchants, each with one payment
attempt (three providers, about 1 in 7 failed with a failure code), a provider call with
its latency, a published outbox event and its webhook job (1 in 1000 dead), straight into the run's database
(generate_series: seconds, not the hours the API would take), then ANALYZE. Then, one
request at a time (latency, not throughput), against the API server under test:

1. `GET /admin/overview` (today's UTC volume and success rate by hour, outbox lag, open
   reviews, dead webhooks, dead letters), admin key;
2. `GET /admin/orders?merchant_reference=...` (a different reference each time), admin key;
3. `GET /dashboard` (the overview page with its SVG chart), an operator's session cookie.

Goal: p95 under 200 ms each. The EXPLAIN (ANALYZE, BUFFERS) of every query behind rows 1
and 2 is printed, and the rows fail (`errors`) if any plan has a sequential scan."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from benchmarks.scenarios import Scenario, Stack, register

ORDERS = 100_000
MERCHANTS = 20
ADMIN_KEY = "bench-admin-key"  # benchmarks.stack.SECURITY_ENV["on"]
WARMUP, MEASURED = 20, 200
GOAL_P95_MS = 200.0

SEED_SQL = f"""
INSERT INTO merchants (id, name, api_key_hash, created_at)
SELECT gen_random_uuid(), 'bench merchant ' || g, 'bench-hash-' || gen_random_uuid(), now() - interval '60 days'
FROM generate_series(1, {MERCHANTS}) g;

INSERT INTO orders (id, merchant_id, merchant_reference, status, amount_minor, currency, items, customer,
                    attempt_count, created_at, updated_at)
SELECT gen_random_uuid(), m.ids[1 + g % array_length(m.ids, 1)], 'bench-ref-' || g,
       CASE WHEN g % 7 = 0 THEN 'PAYMENT_FAILED' ELSE 'PAYMENT_DONE' END,
       100 + (g * 37) % 100000, CASE WHEN g % 5 = 0 THEN 'EUR' ELSE 'USD' END, '[]'::jsonb,
       jsonb_build_object('email', 'shopper' || g || '@example.com'), 1,
       now() - (g % 43200) * interval '1 minute', now() - (g % 43200) * interval '1 minute'
FROM generate_series(1, {ORDERS}) g,
     (SELECT array_agg(id) AS ids FROM merchants WHERE name LIKE 'bench merchant %') m;

INSERT INTO payment_attempts (id, order_id, merchant_id, provider, amount_minor, currency, status, attempt_number,
                              card_brand, card_last4, failure_code, created_at, updated_at)
SELECT gen_random_uuid(), o.id, o.merchant_id, (ARRAY['sandbox', 'stripe', 'paypal'])[1 + n % 3], o.amount_minor,
       o.currency, CASE WHEN o.status = 'PAYMENT_DONE' THEN 'SUCCESS' ELSE 'FAILED' END, 1, 'visa',
       lpad((n % 10000)::text, 4, '0'),
       CASE WHEN o.status = 'PAYMENT_FAILED' THEN (ARRAY['card_declined', 'insufficient_funds'])[1 + n % 2] END,
       o.created_at, o.updated_at
FROM (SELECT *, split_part(merchant_reference, '-', 3)::int AS n FROM orders
      WHERE merchant_reference LIKE 'bench-ref-%') o;

INSERT INTO provider_calls (provider, operation, attempt_id, outcome, failure_code, latency_ms, created_at)
SELECT provider, 'purchase', id, CASE WHEN status = 'SUCCESS' THEN 'succeeded' ELSE 'failed' END, failure_code,
       40 + (abs(hashtext(id::text)) % 400), created_at
FROM payment_attempts;

INSERT INTO outbox (id, event_type, aggregate_id, merchant_id, payload, occurred_at, published_at)
SELECT gen_random_uuid(), 'order.created', id, merchant_id, '{{}}'::jsonb, created_at, created_at
FROM orders WHERE merchant_reference LIKE 'bench-ref-%';

INSERT INTO webhook_schedule (event_id, merchant_id, status, attempt, next_attempt_at, created_at, updated_at)
SELECT id, merchant_id, CASE WHEN seq % 1000 = 0 THEN 'dead' ELSE 'delivered' END, 1, occurred_at, occurred_at,
       occurred_at
FROM outbox WHERE event_type = 'order.created';

ANALYZE;
"""


class Zeros(dict):  # type: ignore[type-arg]
    """A result row whose every column is 0 (so the read model's arithmetic runs)."""

    def __missing__(self, key: str) -> int:
        return 0


def capturing_queries() -> tuple[Any, list[tuple[str, tuple[Any, ...]]]]:
    """AdminQueries that keep each query they would run (and answer a row of zeros)."""
    from app.adapters.db.admin_queries import AdminQueries

    captured: list[tuple[str, tuple[Any, ...]]] = []

    class Capturing(AdminQueries):
        async def _fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
            captured.append((sql, args))
            return [Zeros()]

    return Capturing(None), captured  # type: ignore[arg-type]


async def _explain(database_url: str) -> tuple[str, bool]:
    """EXPLAIN ANALYZE of every query behind the overview and the reference search; and
    whether any of them scans a table sequentially."""
    import asyncpg

    from app.adapters.db.admin_queries import SearchFilter

    queries, captured = capturing_queries()
    now = datetime.now(UTC)
    await queries.overview(now.replace(hour=0, minute=0, second=0, microsecond=0), now)
    await queries.search_orders(SearchFilter(merchant_reference="bench-ref-4242"))
    connection = await asyncpg.connect(database_url)
    text, seq_scan = [], False
    try:
        for sql, args in captured:
            if "to_regclass" in sql:
                continue
            plan = await connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
            lines = [row[0] for row in plan]
            seq_scan |= any(re.search(r"Seq Scan on (orders|payment_attempts|outbox|provider_calls|refunds)", line)
                            for line in lines)
            text.append(" ".join(sql.split()) + "\n" + "\n".join(lines))
    finally:
        await connection.close()
    return "\n\n".join(text), seq_scan


async def _seed(database_url: str) -> float:
    import asyncpg

    started = time.perf_counter()
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(SEED_SQL)
    finally:
        await connection.close()
    return time.perf_counter() - started


async def _latencies(base_url: str, path_of: Any, headers: dict[str, str], cookies: dict[str, str]) -> list[float]:
    import httpx

    measured: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, headers=headers, cookies=cookies, timeout=30) as client:
        for n in range(WARMUP + MEASURED):
            started = time.perf_counter()
            response = await client.get(path_of(n))
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{path_of(n)}: {response.status_code} {response.text[:300]}")
            if n >= WARMUP:
                measured.append(elapsed)
    return measured


async def _operator_cookie(base_url: str) -> dict[str, str]:
    import httpx

    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        form = await client.get("/dashboard/login")
        token = re.search(r'name="_csrf" value="([^"]+)"', form.text)
        assert token, form.text[:300]
        login = await client.post("/dashboard/login", data={"_csrf": token[1], "admin_key": ADMIN_KEY})
        if login.status_code != 303:
            raise RuntimeError(f"dashboard login: {login.status_code}")
        return {"fxp_dash": client.cookies["fxp_dash"]}


def _percentile(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 2)


def _row(title: str, latencies: list[float], failed_plan: bool, extra: dict[str, Any]) -> dict[str, Any]:
    seconds = sum(latencies) / 1000
    p95 = _percentile(latencies, 95)
    return {"metric": title, "title": title, "unit": "req", "requests": len(latencies),
            "duration_s": round(seconds, 3), "rps": round(len(latencies) / seconds, 2),
            "latency_ms": {"p50": _percentile(latencies, 50), "p95": p95, "p99": _percentile(latencies, 99),
                           "max": round(max(latencies), 2)},
            "non_2xx": 0, "errors": int(failed_plan or p95 > GOAL_P95_MS), "cpu": {},
            "goal": f"p95 < {GOAL_P95_MS:.0f} ms, no sequential scan", **extra}


def _probe(ctx: Any) -> list[dict[str, Any]]:
    seconds = asyncio.run(_seed(ctx.database.url))
    print(f"  seeded {ORDERS} orders with attempts, provider calls and events in {seconds:.1f} s", flush=True)
    plans, seq_scan = asyncio.run(_explain(ctx.database.url))
    print(plans, flush=True)
    base = ctx.running.api.base_url
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    overview = asyncio.run(_latencies(base, lambda n: "/admin/overview", admin, {}))
    search = asyncio.run(_latencies(
        base, lambda n: f"/admin/orders?merchant_reference=bench-ref-{1 + (n * 7919) % ORDERS}", admin, {}))
    cookie = asyncio.run(_operator_cookie(base))
    page = asyncio.run(_latencies(base, lambda n: "/dashboard", {}, cookie))
    extra = {"orders": ORDERS, "seed_s": round(seconds, 1), "seq_scan": seq_scan, "explain": plans,
             "run_id": uuid.uuid4().hex[:8]}
    return [_row("GET /admin/overview", overview, seq_scan, extra),
            _row("GET /admin/orders?merchant_reference", search, seq_scan, extra),
            _row("GET /dashboard (overview page)", page, False, {})]


register(Scenario(
    "admin.dashboard", "admin reads on 100k orders", "api", kind="probe", probe=_probe, on_demand=True,
    stack=Stack(security="on"), unit="req",
    description="seed 100,000 orders with attempts; p95 of the overview, a merchant_reference search and the "
                "dashboard page, one request at a time; EXPLAIN of their queries",
))

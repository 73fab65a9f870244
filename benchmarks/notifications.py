"""Shopper notification deliveries per second to the local sinks (a probe scenario).

The sinks are `make run`'s (`python -m app.entrypoints.dev_sinks`: aiosmtpd SMTP and the
Twilio-shaped SMS endpoint), started as their own process. Two rows, same sinks, same
concurrency, same run:

1. `sinks, bare clients` (the baseline): the same email (aiosmtplib, one connection per
   message, as the adapter does) and the same SMS (httpx POST, Basic auth, form body) sent
   straight to the sinks, nothing else.
2. `notifications, whole path`: `payment.succeeded` events of guest orders (their customer
   with an email and a phone, the merchant's guest preferences: email + SMS) through
   `CustomerNotifications.notify_event` — planning from the outbox row, the order and the
   preferences into `notification_deliveries` (unique per event, channel, recipient),
   claiming each delivery's lease, rendering the Jinja2 templates, sending with the real
   adapters, logging the attempt and settling the job — the path the workers run.

Throughput is deliveries (messages caught) per second; the second row's `x bare` is its
ratio to the first. The event count is sized from a warm-up round to last about
`--duration` seconds; `min(--concurrency, 16)` at a time (the pool holds 20)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from typing import Any

from benchmarks.scenarios import Scenario, Stack, register

SID, TOKEN, FROM = "AC" + "b" * 32, "bench-sink-token", "+15005550006"
WARMUP_EVENTS, MIN_EVENTS, MAX_EVENTS = 50, 100, 20_000
ORDERS_SQL = """
INSERT INTO orders (id, merchant_id, merchant_reference, status, amount_minor, currency, items, customer,
                    attempt_count, created_at, updated_at)
SELECT gen_random_uuid(), $1, 'bench-' || gen_random_uuid(), 'PAYMENT_DONE', 2500, 'USD',
       '[{"name": "Mug", "quantity": 1, "unit_amount_minor": 2500, "sku": null}]'::jsonb,
       jsonb_build_object('email', 'shopper' || g || '@example.com', 'name', 'Ada', 'phone', '+1415555' || lpad(g::text, 4, '0')),
       1, now(), now()
FROM generate_series(1, $2) g RETURNING id
"""
EVENTS_SQL = """
INSERT INTO outbox (id, event_type, aggregate_id, merchant_id, payload, occurred_at, published_at)
SELECT gen_random_uuid(), 'payment.succeeded', o, $1,
       jsonb_build_object('order_id', o::text, 'payment_id', gen_random_uuid()::text, 'amount', 2500, 'currency', 'USD'),
       now(), now()
FROM unnest($2::uuid[]) o RETURNING id
"""


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Sinks:
    def __init__(self) -> None:
        self.smtp_port, self.http_port = _free_port(), _free_port()
        env = {**os.environ, "FXP_NOTIFICATIONS__SMS_ACCOUNT_SID": SID, "FXP_NOTIFICATIONS__SMS_AUTH_TOKEN": TOKEN}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.entrypoints.dev_sinks", "--smtp-port", str(self.smtp_port),
             "--http-port", str(self.http_port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import httpx

        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.http_port}/health", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("the notification sinks did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _settings(sinks: Sinks) -> Any:
    from config.settings import NotificationSettings

    return NotificationSettings(smtp_host="127.0.0.1", smtp_port=sinks.smtp_port, smtp_security="none",
                                sms_base_url=f"http://127.0.0.1:{sinks.http_port}", sms_account_sid=SID,
                                sms_auth_token=TOKEN, sms_from=FROM)


async def _bounded(concurrency: int, jobs: list[Any]) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def run(job: Any) -> None:
        async with gate:
            await job()

    await asyncio.gather(*(run(job) for job in jobs))


async def _bare(sinks: Sinks, events: int, concurrency: int) -> tuple[int, float]:
    """The same two messages per event, straight to the sinks: (messages, seconds)."""
    from app.adapters.notify.channels import close_senders, message_senders
    from app.adapters.notify.rendering import JinjaMessageRenderer
    from app.domain.model.notification import Category, Channel

    senders = message_senders(_settings(sinks))
    renderer = JinjaMessageRenderer()
    from app.adapters.notify.message_facts import facts_of

    facts = facts_of({"id": uuid.uuid4(), "merchant_reference": "bench", "amount_minor": 2500, "currency": "USD",
                      "items": [{"name": "Mug", "quantity": 1, "unit_amount_minor": 2500}], "customer": {"name": "Ada"},
                      "estimated_delivery": None, "merchant_name": "bench", "payload": {}})
    email = renderer.render(Category.PAYMENT_RECEIPT, Channel.EMAIL, facts)  # rendered once: not measured
    sms = renderer.render(Category.PAYMENT_RECEIPT, Channel.SMS, facts)
    failures: list[str] = []

    def job(n: int) -> Any:
        async def send() -> None:
            for channel, message, to in ((Channel.EMAIL, email, f"shopper{n}@example.com"),
                                         (Channel.SMS, sms, f"+1415555{n % 10_000:04d}")):
                result = await senders[channel].send(to, message, f"bare-{n}-{channel}")
                if not result.ok:
                    failures.append(result.error or "failed")
        return send

    started = time.perf_counter()
    try:
        await _bounded(concurrency, [job(n) for n in range(events)])
    finally:
        await close_senders(senders)
    if failures:
        raise RuntimeError(f"{len(failures)} bare sends failed: {failures[:3]}")
    return 2 * events, time.perf_counter() - started


async def _whole_path(database_url: str, merchant_id: str, sinks: Sinks, events: int,
                      concurrency: int) -> tuple[int, float]:
    """`events` payment receipts through CustomerNotifications: (deliveries, seconds)."""
    import asyncpg
    from piccolo.engine.postgres import PostgresEngine

    from app.adapters.db.notification_preferences import PiccoloPreferenceStore
    from app.adapters.notify.channels import close_senders, message_senders
    from app.adapters.notify.message_facts import PiccoloMessageFacts
    from app.adapters.notify.notification_jobs import PiccoloNotificationJobs, PolledRetries
    from app.adapters.notify.rendering import JinjaMessageRenderer
    from app.domain.model.notification import NotificationPreferences
    from app.domain.ports_notifications import NotificationOutcome
    from app.domain.services.customer_notifications import CustomerNotifications

    engine = PostgresEngine(config={"dsn": database_url}, log_queries=False)
    await engine.start_connection_pool(min_size=2, max_size=20)
    connection = await asyncpg.connect(database_url)
    settings = _settings(sinks)
    senders = message_senders(settings)
    try:
        merchant = uuid.UUID(merchant_id)
        await PiccoloPreferenceStore(engine).put(merchant, None, NotificationPreferences.build(
            {"payment_receipt": ["email", "sms"]}))
        orders = [row["id"] for row in await connection.fetch(ORDERS_SQL, merchant, events)]
        event_ids = [row["id"] for row in await connection.fetch(EVENTS_SQL, merchant, orders)]
        service = CustomerNotifications(
            PiccoloNotificationJobs(engine, frozenset(senders), settings.lease_s, settings.smtp_timeout_s),
            PiccoloMessageFacts(engine), JinjaMessageRenderer(), senders, PolledRetries(), settings.retry_delays_s)
        outcomes: list[NotificationOutcome] = []

        def job(event_id: uuid.UUID) -> Any:
            async def notify() -> None:
                outcomes.extend(await service.notify_event(event_id))
            return notify

        started = time.perf_counter()
        await _bounded(concurrency, [job(e) for e in event_ids])
        seconds = time.perf_counter() - started
    finally:
        await close_senders(senders)
        await connection.close()
        await engine.close_connection_pool()
    delivered = outcomes.count(NotificationOutcome.DELIVERED)
    if delivered != 2 * events:
        raise RuntimeError(f"{delivered} of {2 * events} deliveries delivered: {set(outcomes)}")
    return delivered, seconds


def _row(metric: str, title: str, messages: int, seconds: float, cpu_s: float,
         extra: dict[str, Any]) -> dict[str, Any]:
    return {"metric": metric, "title": title, "unit": "msg", "requests": messages, "duration_s": round(seconds, 3),
            "rps": round(messages / seconds, 2) if seconds > 0 else 0.0, "latency_ms": {}, "non_2xx": 0,
            "errors": 0, "cpu": {"cpu_ms_per_op": round(1000 * cpu_s / messages, 3)}, **extra}


def _timed(coroutine: Any) -> tuple[Any, float]:
    before = time.process_time()
    result = asyncio.run(coroutine)
    return result, time.process_time() - before


def measure(ctx: Any) -> list[dict[str, Any]]:
    """The probe (ctx: benchmarks.stack.ProbeContext)."""
    import logging

    logging.getLogger("piccolo").setLevel(logging.WARNING)
    concurrency = min(ctx.args.concurrency, 16)
    sinks = Sinks()
    try:
        (_, warm_s), _ = _timed(_bare(sinks, WARMUP_EVENTS, concurrency))
        events = int(min(MAX_EVENTS, max(MIN_EVENTS, WARMUP_EVENTS / warm_s * ctx.args.duration)))
        (bare_n, bare_s), bare_cpu = _timed(_bare(sinks, events, concurrency))
        _timed(_whole_path(ctx.database.url, ctx.database.merchant_id, sinks, WARMUP_EVENTS, concurrency))
        (ours_n, ours_s), ours_cpu = _timed(_whole_path(ctx.database.url, ctx.database.merchant_id, sinks, events,
                                                        concurrency))
    finally:
        sinks.stop()
    bare = _row("notifications.bare", "sinks, bare clients", bare_n, bare_s, bare_cpu,
                {"concurrency": concurrency, "events": events})
    ratio = round((ours_n / ours_s) / (bare_n / bare_s), 3) if bare_s and ours_s else None
    ours = _row("notifications.whole_path", f"notifications ({ratio}x bare)", ours_n, ours_s, ours_cpu,
                {"concurrency": concurrency, "events": events, "vs_bare": ratio})
    print(f"  notifications: {bare['rps']:.0f} msg/s bare, {ours['rps']:.0f} deliveries/s through the whole path "
          f"= {ratio}x (email + SMS per event, {events} events, {concurrency} at a time)", flush=True)
    return [bare, ours]


register(Scenario(
    "notifications.deliveries", "notifications", "api", kind="probe", probe=measure,
    stack=Stack(api=False), unit="msg",
    description="shopper email + SMS deliveries/s to make run's local sinks (aiosmtpd, Twilio-shaped HTTP), "
                "whole path (plan, lease, render, send, settle in PostgreSQL) vs bare sends, same run",
))

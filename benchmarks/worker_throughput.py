"""Worker throughput (a probe scenario, on demand): outbox events relayed per second and
actor runs per second, with the project's own relay, broker and workers.

The events are `payment.requested` rows written straight into the outbox (columns and
payload as PaymentAttempt.start writes them) for attempts that do not exist: the relay
routes each to one `dispatch_payment` message (app/domain/routing.py), and the actor runs
its whole path — message decoding and middleware, the processed_events check, the attempt
lookup — then, finding no attempt, records the event in processed_events instead of
calling a provider. So the figures are the queue machinery's cost per event; a real
payment's provider call and settlement are in the payment-flow scenarios.

Four rows:
1. `relay, in-process`: `OutboxRelay.relay_once` (app/adapters/queue/outbox_relay.py)
   called in a loop in the harness process against the real Redis broker
   (`app.workers.broker.build_broker`, namespace of its own), nothing consuming: the
   relay's own rate (claim FOR UPDATE SKIP LOCKED, publish, mark), batches of
   FXP_WORKERS__RELAY_BATCH_SIZE (500). CPU column: the harness process per event.
2. `relay, N workers` and 3. `actor runs, N workers`: `python -m app.workers.main
   --processes N` (scheduler included, relay ticks every FXP_WORKERS__RELAY_INTERVAL_S,
   0.2 s by default); the rows are inserted in one statement, then the time until no row
   is unpublished (relay) and until every event is in processed_events (actors) is
   polled every 50 ms from the moment the insert committed. The relay shares the CPUs
   with the actors here; the first tick may come up to one interval late. CPU column:
   all worker processes per actor run.
4. `idle, N workers` (before 2. and 3.): the same processes' CPU over IDLE_S seconds with
   nothing to do — idle consumers polling, relay ticks, heartbeats — in CPU ms per second:
   the fixed cost that the payments of each second share.

The event count is sized from a warm-up round so each measured round lasts about
`--duration` seconds (at least 1000 events)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from benchmarks.scenarios import Scenario, Stack, register

WARMUP_EVENTS = 1000
MIN_EVENTS, MAX_EVENTS = 1000, 200_000
POLL_S = 0.05
IDLE_S = 6.0
COUNT_PROCESSED_SQL = ("SELECT count(*) FROM processed_events WHERE consumer = 'dispatch_payment' "
                       "AND processed_at >= $1")
UNPUBLISHED_SQL = "SELECT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL)"


def _events_for(rate: float, duration: float) -> int:
    return int(min(MAX_EVENTS, max(MIN_EVENTS, rate * duration)))


async def _checkpoint(connection: Any) -> None:
    import asyncpg

    try:
        await connection.execute("CHECKPOINT")
    except asyncpg.PostgresError:
        pass  # needs superuser (or pg_checkpoint); only a variance reducer


def _row(metric: str, title: str, unit: str, events: int, seconds: float, cpu: dict[str, Any],
         extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"metric": metric, "title": title, "unit": unit, "requests": events, "duration_s": round(seconds, 3),
            "rps": round(events / seconds, 2) if seconds > 0 else 0.0, "latency_ms": {}, "non_2xx": 0,
            "errors": 0, "cpu": cpu, **(extra or {})}


# --- 1. the relay alone, in this process -------------------------------------------------

async def _relay_rounds(database_url: str, publisher: Any, routes: Any, batch_size: int,
                        duration: float) -> tuple[int, float, float, float]:
    import asyncpg
    from piccolo.engine.postgres import PostgresEngine

    from app.adapters.queue.outbox_relay import OutboxRelay
    from benchmarks.stack import INSERT_PHANTOM_EVENTS_SQL, MARK_BACKLOG_PUBLISHED_SQL

    logging.getLogger("piccolo").setLevel(logging.WARNING)  # the engine's start-up line
    engine = PostgresEngine(config={"dsn": database_url})
    await engine.start_connection_pool(min_size=1, max_size=2)
    connection = await asyncpg.connect(database_url)
    relay = OutboxRelay(engine, publisher, routes, batch_size)

    async def relay_all() -> int:
        total = 0
        while relayed := await relay.relay_once():
            total += relayed
        return total

    try:
        merchant_id = await connection.fetchval("SELECT id FROM merchants ORDER BY created_at LIMIT 1")
        await connection.execute(MARK_BACKLOG_PUBLISHED_SQL)
        await connection.execute(INSERT_PHANTOM_EVENTS_SQL, merchant_id, WARMUP_EVENTS)
        started = time.perf_counter()
        warm = await relay_all()
        events = _events_for(warm / (time.perf_counter() - started), duration)
        await connection.execute(INSERT_PHANTOM_EVENTS_SQL, merchant_id, events)
        await _checkpoint(connection)
        cpu_before, started = time.process_time(), time.perf_counter()
        relayed = await relay_all()
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_before
        return relayed, seconds, cpu_s, events
    finally:
        await connection.close()
        await engine.close_connection_pool()


def _relay_in_process(ctx: Any) -> dict[str, Any]:
    from app.adapters.queue.broker import connect_broker
    from app.adapters.queue.publisher import DramatiqPublisher
    from app.domain.routing import EVENT_ROUTES
    from benchmarks import cpu
    from benchmarks.stack import delete_redis_namespace
    from config.settings import settings_from_env

    namespace = f"{ctx.running.namespace}_relay"
    settings = settings_from_env({**os.environ, **ctx.running.env, "FXP_WORKERS__NAMESPACE": namespace})
    broker = connect_broker(settings)  # the real Redis broker; nothing consumes this namespace
    try:
        machine = cpu.Snapshot.take()
        relayed, seconds, cpu_s, events = asyncio.run(_relay_rounds(
            ctx.database.url, DramatiqPublisher(broker), EVENT_ROUTES, settings.workers.relay_batch_size,
            ctx.args.duration))
        busy = {key: value for key, value in cpu.Snapshot.take().since(machine).items() if key != "server_cores"}
    finally:
        broker.close()
        delete_redis_namespace(ctx.database.services.redis_url, namespace)
    if relayed != events:
        raise RuntimeError(f"the relay published {relayed} of {events} events")
    usage = {**busy, "relay_process_cores": round(cpu_s / seconds, 2),
             "cpu_ms_per_op": round(1000 * cpu_s / relayed, 3)}
    return _row("relay.in_process", "relay, in-process", "evt", relayed, seconds, usage,
                {"batch_size": settings.workers.relay_batch_size})


# --- 2./3. through the worker processes --------------------------------------------------

async def _round(connection: Any, merchant_id: Any, events: int, timeout_s: float) -> tuple[float, float]:
    """Insert `events` rows; seconds until all are relayed, and until all actors ran."""
    from benchmarks.stack import INSERT_PHANTOM_EVENTS_SQL

    since = await connection.fetchval("SELECT clock_timestamp()")
    await connection.execute(INSERT_PHANTOM_EVENTS_SQL, merchant_id, events)  # autocommit
    inserted = time.perf_counter()
    relay_s = None
    while True:
        if relay_s is None and not await connection.fetchval(UNPUBLISHED_SQL):
            relay_s = time.perf_counter() - inserted
        if relay_s is not None and await connection.fetchval(COUNT_PROCESSED_SQL, since) >= events:
            return relay_s, time.perf_counter() - inserted
        if time.perf_counter() - inserted > timeout_s:
            raise RuntimeError(f"{events} events not through the workers after {timeout_s:.0f} s "
                               f"(relayed: {relay_s is not None})")
        await asyncio.sleep(POLL_S)


async def _idle(ctx: Any, processes: int) -> dict[str, Any]:
    """The worker processes' CPU with nothing to do (polling, ticks, heartbeats): a fixed
    cost that every payment per second shares."""
    from benchmarks import cpu

    await asyncio.sleep(1.0)  # the readiness probe's work settles
    before = cpu.Snapshot.take(ctx.running.components()["workers"])
    await asyncio.sleep(IDLE_S)
    after = cpu.Snapshot.take(ctx.running.components()["workers"])
    usage = after.since(before)
    cores = usage.pop("server_cores", 0.0)
    row = _row("workers.idle", f"idle, {processes} workers", "s", 1, IDLE_S, {**usage, "workers_cores": cores,
                                                                             "cpu_ms_per_op": round(1000 * cores, 3)},
               {"processes": processes})
    row["rps"] = 0.0
    return row


async def _through_workers(ctx: Any, processes: int) -> list[dict[str, Any]]:
    import asyncpg

    from benchmarks import cpu

    idle = await _idle(ctx, processes)
    connection = await asyncpg.connect(ctx.database.url)
    try:
        merchant_id = await connection.fetchval("SELECT id FROM merchants ORDER BY created_at LIMIT 1")
        timeout_s = max(120.0, 20 * ctx.args.duration)
        _, warm_s = await _round(connection, merchant_id, WARMUP_EVENTS, timeout_s)
        events = _events_for(WARMUP_EVENTS / warm_s, ctx.args.duration)
        await _checkpoint(connection)
        before = cpu.Snapshot.take(ctx.running.components()["workers"])
        relay_s, actors_s = await _round(connection, merchant_id, events, timeout_s)
        after = cpu.Snapshot.take(ctx.running.components()["workers"])
    finally:
        await connection.close()
    cpu_s = (after.group - before.group) / cpu.TICKS  # all worker processes, over the round
    workers_cpu = {**after.since(before), "cpu_ms_per_op": round(1000 * cpu_s / events, 3)}
    workers_cpu["workers_cores"] = workers_cpu.pop("server_cores", 0.0)
    label = f"{processes} workers"
    extra = {"processes": processes, "poll_s": POLL_S}
    return [
        idle,
        _row("relay.workers", f"relay, {label}", "evt", events, relay_s, {}, extra),
        _row("actors.workers", f"actor runs, {label}", "run", events, actors_s, workers_cpu, extra),
    ]


def measure(ctx: Any) -> list[dict[str, Any]]:
    """The probe (ctx: benchmarks.stack.ProbeContext): the relay alone, then the workers."""
    rows = [_relay_in_process(ctx)]
    processes = ctx.args.worker_processes
    ctx.running.start_workers(processes)
    rows += asyncio.run(_through_workers(ctx, processes))
    return rows


register(Scenario(
    "workers.throughput", "workers", "api", kind="probe", probe=measure,
    stack=Stack(dispatch="outbox", api=False), on_demand=True,
    description="outbox events relayed/s (relay alone, in-process, real Redis broker; and inside "
                "`app.workers.main --processes 2`) and dispatch_payment actor runs/s",
))

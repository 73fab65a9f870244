"""Where one request's time goes: every SQL statement it sends, and its CPU cost.

    python -m benchmarks.trace [orders.create orders.get baseline.insert] [--requests 50]

Runs the app in this process against a throw-away database (the same provisioning as
`benchmarks.run`), drives the scenario's requests one at a time straight into the ASGI
app (no HTTP server, no client library: the CPU measured is the app's and asyncpg's own),
and logs every statement through asyncpg's query logger — including BEGIN/COMMIT,
savepoints and the session reset asyncpg runs when a connection goes back to the pool.
Prints, per scenario: statements (= database round trips) per request, median wall time,
CPU time of this process per request (everything, the pool's connection reset included;
the least-disturbed batch of 50 requests, as other load inflates the rest),
time waiting on PostgreSQL, and the statements of one request with their times.
The app logs at its configured level (FXP_LOG_LEVEL, INFO by default) into /dev/null.

For a CPU profile of the same loop: `py-spy record -o trace.svg -- python -m benchmarks.trace
orders.create --requests 5000`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import time
from typing import Any

import asyncpg

from benchmarks.scenarios import BASELINE, SCENARIOS, Request, SetupContext

_queries: list[tuple[str, float]] = []
BATCH = 50


def _log_query(record: Any) -> None:
    _queries.append((record.query, record.elapsed))


def _trace_pools() -> None:
    """Every pool created from now on logs its connections' statements."""
    original = asyncpg.create_pool

    async def add_logger(connection: asyncpg.Connection) -> None:
        connection.add_query_logger(_log_query)

    def create_pool(*args: Any, **kwargs: Any) -> Any:
        user_init = kwargs.pop("init", None)

        async def init(connection: asyncpg.Connection) -> None:
            await add_logger(connection)
            if user_init is not None:
                await user_init(connection)

        return original(*args, init=init, **kwargs)

    asyncpg.create_pool = create_pool


async def call_asgi(app: Any, request: Request) -> tuple[int, bytes]:
    path, _, query = request.path.partition("?")
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    if request.body:
        headers.append((b"content-length", str(len(request.body)).encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status, body = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": request.body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(body)


async def trace_scenario(app: Any, name: str, context: dict[str, Any], requests: int,
                         warmup: int) -> dict[str, Any]:
    scenario = SCENARIOS[name]
    samples = []
    for n in range(warmup + requests):
        _queries.clear()
        cpu, wall = time.process_time(), time.perf_counter()
        status, body = await call_asgi(app, scenario.request(context, n))
        wall = time.perf_counter() - wall
        await asyncio.sleep(0.001)  # let the pool finish the connection's reset (logged, and its CPU counted)
        cpu = time.process_time() - cpu
        if not 200 <= status < 300:
            raise RuntimeError(f"{name}: HTTP {status}: {body[:500]!r}")
        if n >= warmup:
            samples.append({"wall": wall, "cpu": cpu, "queries": list(_queries)})
    # process_time is coarse per request and, on a shared (virtual) machine, inflated in
    # places by other load and steal time: average over batches, keep the least disturbed.
    batches = [samples[i:i + BATCH] for i in range(0, len(samples) - BATCH + 1, BATCH)] or [samples]
    cpu_per_request = min(sum(s["cpu"] for s in batch) / len(batch) for batch in batches)

    def median_ms(values: Any) -> float:
        return round(statistics.median(values) * 1000, 3)

    example = samples[len(samples) // 2]
    return {
        "scenario": name,
        "statements_per_request": statistics.median(len(s["queries"]) for s in samples),
        "wall_ms": median_ms(s["wall"] for s in samples),
        "cpu_ms": round(cpu_per_request * 1000, 3),
        "db_wait_ms": median_ms(sum(e for _, e in s["queries"]) for s in samples),
        "example": [(" ".join(q.split())[:110], round(e * 1000, 3)) for q, e in example["queries"]],
    }


async def concurrent_cpu(app: Any, name: str, context: dict[str, Any], requests: int, warmup: int,
                         concurrency: int) -> dict[str, Any]:
    """CPU per request with `concurrency` requests in flight at a time (as a server under
    load sees them: what requests share, such as the key-revocation GET, counts): rounds of
    `requests`, the least disturbed round kept."""
    scenario = SCENARIOS[name]
    numbers = iter(range(10**9))

    async def client(count: int) -> None:
        for _ in range(count):
            status, body = await call_asgi(app, scenario.request(context, next(numbers)))
            if not 200 <= status < 300:
                raise RuntimeError(f"{name}: HTTP {status}: {body[:500]!r}")

    async def round_of(total: int) -> tuple[float, float]:
        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(client(total // concurrency) for _ in range(concurrency)))
        done = total // concurrency * concurrency
        return (time.process_time() - cpu) / done, (time.perf_counter() - wall) / done

    await round_of(max(warmup, concurrency))
    rounds = [await round_of(requests) for _ in range(5)]
    return {"scenario": name, "concurrency": concurrency, "cpu_ms": round(min(c for c, _ in rounds) * 1000, 3),
            "cpu_ms_rounds": [round(c * 1000, 3) for c, _ in rounds],
            "rps": round(1 / min(w for _, w in rounds))}


def print_trace(result: dict[str, Any]) -> None:
    if "concurrency" in result:
        print(f"\n{SCENARIOS[result['scenario']].title}: {result['concurrency']} at a time, CPU "
              f"{result['cpu_ms']:.3f} ms/request (least of rounds {result['cpu_ms_rounds']}), "
              f"{result['rps']} requests/s")
        return
    title = SCENARIOS[result["scenario"]].title
    print(f"\n{title}: {result['statements_per_request']:g} statements/request, median wall "
          f"{result['wall_ms']:.2f} ms, CPU {result['cpu_ms']:.2f} ms/request, waiting on PostgreSQL "
          f"{result['db_wait_ms']:.2f} ms (one request at a time)")
    for query, elapsed in result["example"]:
        print(f"  {elapsed:7.3f} ms  {query}")


async def _run(names: list[str], database: Any, requests: int, warmup: int, concurrency: int = 1) -> None:
    import httpx

    _trace_pools()
    from app.bootstrap import build_container
    from app.entrypoints.http.app import create_app
    from benchmarks import baseline_app
    from config.logging import configure_logging
    from config.settings import get_settings

    settings = get_settings()
    real_stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115 - the app's log lines
    configure_logging(settings.log_level)  # binds the logger to the current sys.stdout
    sys.stdout = real_stdout
    for noisy in ("httpx", "piccolo"):  # the setup's requests, the engine's start-up line
        logging.getLogger(noisy).setLevel(logging.WARNING)
    container = build_container(settings)
    api = create_app(container)
    await container.start()
    try:
        async with baseline_app.lifespan(baseline_app.app):
            for name in names:
                scenario = SCENARIOS[name]
                app = api if scenario.target == "api" else baseline_app.app
                context: dict[str, Any] = {"api_key": database.api_key}
                if scenario.setup is not None:
                    transport = httpx.ASGITransport(app=api)
                    async with httpx.AsyncClient(transport=transport, base_url="http://bench.test",
                                                 headers={"Authorization": f"Bearer {database.api_key}"}) as client:
                        context |= await scenario.setup(SetupContext("http://bench.test", database.api_key, client))
                print_trace(await trace_scenario(app, name, context, requests, warmup) if concurrency == 1
                            else await concurrent_cpu(app, name, context, requests, warmup, concurrency))
    finally:
        await container.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.trace", description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", default=[BASELINE, "orders.create", "orders.get"])
    parser.add_argument("--requests", type=int, default=500, help="measured requests (a multiple of 50)")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=1,
                        help="requests in flight at a time: CPU per request only (no statements)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.scenarios if n not in SCENARIOS or SCENARIOS[n].kind != "requests"]
    if unknown:
        parser.error(f"unknown or not single-request scenario(s): {', '.join(unknown)}")

    from benchmarks.provision import BenchDatabase, Services

    database = BenchDatabase.create(Services.from_env())
    try:
        # the app reads its settings (and binds Piccolo's engine) on first import: set them first
        os.environ.update({**database.env, "BENCH_DATABASE_URL": database.url})
        # As benchmarks.run's servers (benchmarks/stack.py): one client would hit the limits.
        os.environ.setdefault("FXP_RATE_LIMIT__ENABLED", "false")
        # As payment.flow.workers: a payment is dispatched by the workers (none here), so
        # payments.create and callbacks.sandbox (benchmarks/payment_steps.py) call no gateway.
        os.environ.setdefault("FXP_PAYMENTS__DISPATCH", "outbox")
        import uvloop  # the servers run on uvloop too

        uvloop.run(_run(args.scenarios, database, args.requests, args.warmup, args.concurrency))
    finally:
        database.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

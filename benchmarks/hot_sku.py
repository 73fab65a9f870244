"""The hot-sku probe's own process (benchmarks/catalog.py): spec as JSON on stdin
({"orders": N, "concurrency": C}), result rows as JSON on stdout. The use cases come from
build_container with an in-process bus that routes nothing, so only the measured calls
touch the stock row; the provider is never called (payments are marked successful)."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import msgspec


async def _race(calls: list[Callable[[], Awaitable[Any]]], concurrency: int) -> tuple[float, list[float], int]:
    """Run the calls `concurrency` at a time: wall seconds, per-call latencies, failures."""
    queue = list(reversed(calls))
    latencies: list[float] = []
    failures = 0

    async def user() -> None:
        nonlocal failures
        while queue:
            call = queue.pop()
            started = time.perf_counter()
            try:
                await call()
            except Exception:
                failures += 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, failures


def _row(metric: str, title: str, unit: str, count: int, seconds: float, latencies: list[float], failures: int,
         cpu_s: float) -> dict[str, Any]:
    ordered = sorted(latencies)
    pick = lambda q: round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)  # noqa: E731
    return {"metric": metric, "title": title, "unit": unit, "requests": count, "duration_s": round(seconds, 3),
            "rps": round(count / seconds, 2), "latency_ms": {"p50": pick(0.5), "p99": pick(0.99)},
            "non_2xx": failures, "errors": failures,
            "cpu": {"cpu_ms_per_op": round(1000 * cpu_s / count, 3)}}


async def main(orders: int, concurrency: int) -> list[dict[str, Any]]:
    from app.adapters.queue.inline_bus import InProcessEventBus
    from app.bootstrap import build_container
    from app.domain.model.card import CardDetails
    from app.domain.model.pricing import RequestedItem
    from app.domain.model.provider import Outcome, ProviderResult
    from app.domain.services.catalog import NewProduct
    from app.domain.services.orders import NewOrder, Customer
    from config.settings import get_settings

    container = build_container(get_settings(), bus=InProcessEventBus(routes={}))
    await container.start()
    try:
        merchant = (await container.merchants.create("bench hot sku")).merchant.id
        sku = f"HOT-{uuid.uuid4().hex[:8]}"
        await container.catalog.create(merchant, NewProduct(sku, "Hot item", 500, "USD", 1, orders))
        made = []
        for _ in range(orders):
            made.append(await container.orders.create(merchant, NewOrder(None, "USD", [RequestedItem(1, sku)],
                                                                         Customer())))
        card = CardDetails.parse("4242424242424242", 12, 2035, "123", date(2026, 1, 1))
        attempts: list[Any] = []

        async def start(order_id: uuid.UUID) -> None:
            attempts.append(await container.payments.request(merchant, order_id, "sandbox", card))

        cpu = time.process_time()
        seconds, reserve_latencies, reserve_failures = await _race(
            [lambda o=o: start(o.id) for o in made], concurrency)
        reserve = _row("inventory.reserve", "reservations, hot sku", "res", len(made), seconds, reserve_latencies,
                       reserve_failures, time.process_time() - cpu)
        for attempt in attempts:
            await container.payments.settle(attempt.id, ProviderResult(Outcome.SUCCEEDED, f"ref-{attempt.id}"))
        cpu = time.process_time()
        seconds, latencies, failures = await _race(
            [lambda a=a: container.fulfillment.allocate(uuid.uuid4(), merchant, a.order_id, a.id) for a in attempts],
            concurrency)
        allocate = _row("inventory.allocate", "allocations, hot sku", "alloc", len(attempts), seconds, latencies,
                        failures, time.process_time() - cpu)
        async with container.engine.transaction() as tx:
            level = await tx.connection.fetchrow(
                "SELECT on_hand, reserved, allocated FROM products WHERE merchant_id = $1 AND sku = $2", merchant, sku)
        allocate["stock_after"] = dict(level)
        return [reserve, allocate]
    finally:
        await container.stop()


if __name__ == "__main__":
    spec = msgspec.json.decode(sys.stdin.buffer.read())
    rows = asyncio.run(main(spec["orders"], spec["concurrency"]))
    sys.stdout.buffer.write(msgspec.json.encode(rows))

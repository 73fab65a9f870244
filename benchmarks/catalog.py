"""Catalog scenarios: POST /orders with three catalog items against three free items in
the same run (the report's ratio column puts both next to POST /orders), and stock
allocations per second for one hot sku under contention (a probe, on demand).

The hot-sku probe runs benchmarks/hot_sku.py in a process of its own against the run's
database (the app's tables are bound to FXP_DATABASE_URL at import): one product, N
one-unit orders, N payment starts racing to reserve it (reservations/s), the N payments
marked successful, then N allocations racing for the same stock row (allocations/s)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import Any

import msgspec

from benchmarks.scenarios import JSON, Request, Scenario, SetupContext, Stack, _auth, register
from benchmarks.servers import ROOT

CATALOG_SKUS = ("BENCH-MUG", "BENCH-TEE", "BENCH-CAP")
CATALOG_ORDER = msgspec.json.encode({"currency": "USD", "items": [
    {"sku": "BENCH-MUG", "quantity": 1}, {"sku": "BENCH-TEE", "quantity": 2}, {"sku": "BENCH-CAP", "quantity": 1}]})
FREE_ORDER = msgspec.json.encode({"currency": "USD", "items": [
    {"name": "Mug", "quantity": 1, "unit_amount": 1200}, {"name": "Tee", "quantity": 2, "unit_amount": 2000},
    {"name": "Cap", "quantity": 1, "unit_amount": 900}]})


async def _products(setup: SetupContext) -> dict[str, Any]:
    for sku, price in zip(CATALOG_SKUS, (1200, 2000, 900), strict=True):
        response = await setup.client.post("/products", headers=JSON, content=msgspec.json.encode(
            {"sku": sku, "name": sku.title(), "unit_amount": price, "currency": "USD", "stock": 1_000_000}))
        if response.status_code not in (201, 409):  # 409: made in an earlier repetition
            response.raise_for_status()
    return {}


def _order(body: bytes):
    def request(ctx: dict[str, Any], n: int) -> Request:
        return Request("POST", "/orders", {**_auth(ctx), **JSON, "Idempotency-Key": f"bench-{uuid.uuid4().hex}"},
                       body)

    return request


register(Scenario(
    "orders.create_catalog", "POST /orders 3 sku", "api", _order(CATALOG_ORDER), setup=_products,
    unique_headers=("Idempotency-Key",),
    description="an order of three catalog items: validated and priced from the catalog (one SELECT)",
))
register(Scenario(
    "orders.create_free3", "POST /orders 3 free", "api", _order(FREE_ORDER), unique_headers=("Idempotency-Key",),
    description="the same order as three free items (no sku): what the catalog lookup is compared with",
))


def measure_hot_sku(ctx: Any) -> list[dict[str, Any]]:
    """The probe (ctx: benchmarks.stack.ProbeContext)."""
    orders = int(max(200, min(5000, 100 * ctx.args.duration)))
    env = {**os.environ, **ctx.running.env, "FXP_DATABASE_URL": ctx.database.url,
           "FXP_REDIS_URL": ctx.database.services.redis_url, "FXP_LOG_LEVEL": "WARNING"}
    spec = msgspec.json.encode({"orders": orders, "concurrency": ctx.args.concurrency})
    result = subprocess.run([sys.executable, "-m", "benchmarks.hot_sku"], input=spec, capture_output=True,
                            cwd=ROOT, env=env, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"hot-sku probe failed:\n{result.stderr.decode(errors='replace')}")
    return msgspec.json.decode(result.stdout)


register(Scenario(
    "inventory.hot_sku", "hot sku", "api", kind="probe", probe=measure_hot_sku,
    stack=Stack(dispatch="outbox", api=False), on_demand=True,
    description="one sku, N one-unit orders: payment starts reserving it concurrently (reservations/s), "
                "then allocations of the paid orders racing for its stock row (allocations/s)",
))

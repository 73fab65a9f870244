"""The baseline: the least a Litestar + asyncpg endpoint can do per request — decode the
JSON body into a msgspec struct and INSERT one row (one round trip, autocommit).

Served by the same ASGI server, with the same worker count and pool size as the API:
    BENCH_DATABASE_URL=... BENCH_POOL_MIN=2 BENCH_POOL_MAX=20 \
        granian --interface asgi --workers 2 --loop uvloop benchmarks.baseline_app:app
The harness creates the table (TABLE_SQL) before starting it."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import msgspec
from litestar import Litestar, get, post

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_baseline (
    id uuid PRIMARY KEY,
    payload jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
INSERT_SQL = "INSERT INTO bench_baseline (id, payload) VALUES ($1, $2::jsonb)"


class Item(msgspec.Struct):
    name: str
    quantity: int
    unit_amount: int


class Payload(msgspec.Struct):
    amount: int
    currency: str
    items: list[Item] = []


class Created(msgspec.Struct):
    id: uuid.UUID


_pool: asyncpg.Pool | None = None


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    global _pool
    _pool = await asyncpg.create_pool(
        os.environ["BENCH_DATABASE_URL"],
        min_size=int(os.environ.get("BENCH_POOL_MIN", "2")),
        max_size=int(os.environ.get("BENCH_POOL_MAX", "20")),
    )
    try:
        yield
    finally:
        await _pool.close()


@post("/baseline", status_code=201)
async def insert(data: Payload) -> Created:
    row_id = uuid.uuid4()
    await _pool.execute(INSERT_SQL, row_id, msgspec.json.encode(data).decode())
    return Created(row_id)


@get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[insert, health], lifespan=[lifespan], debug=False)

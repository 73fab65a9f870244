"""Shutting the connection pool down without hanging on a connection never given back."""

from __future__ import annotations

import asyncio

import structlog
from piccolo.engine.postgres import PostgresEngine


async def close_pool(engine: PostgresEngine, timeout_s: float) -> None:
    """Close the engine's pool: wait up to `timeout_s` for connections still checked out
    (requests and tasks finishing), then close them hard. asyncpg's own close waits for
    every connection without end, so one that a task never released would hang the
    shutdown (and a test session's teardown) for good."""
    pool = engine.pool
    if pool is None:
        return
    try:
        await asyncio.wait_for(asyncio.shield(pool.close()), timeout_s)
    except TimeoutError:
        structlog.get_logger("fusionxpay.db").warning(
            "database_connections_abandoned", checked_out=pool.get_size() - pool.get_idle_size(), waited_s=timeout_s)
        pool.terminate()
    engine.pool = None

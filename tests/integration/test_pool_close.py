"""Shutdown closes the connection pool even when a connection was never given back."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest
from piccolo.engine.postgres import PostgresEngine
from structlog.testing import capture_logs

from app.adapters.db.pool import close_pool
from config.piccolo_conf import engine_config


async def _started_engine(settings) -> PostgresEngine:
    engine = PostgresEngine(config=engine_config(settings.database), log_queries=False)
    await engine.start_connection_pool(min_size=1, max_size=2)
    return engine


async def test_a_connection_never_released_is_closed_after_the_timeout(settings):
    engine = await _started_engine(settings)
    held = await engine.pool.acquire()  # a task that never gives its connection back
    started = time.monotonic()
    with capture_logs() as logs:
        await close_pool(engine, timeout_s=0.5)
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 5
    assert engine.pool is None
    with pytest.raises(asyncpg.InterfaceError):  # closed under the task that held it
        await held.fetchval("SELECT 1")
    abandoned = [entry for entry in logs if entry["event"] == "database_connections_abandoned"]
    assert len(abandoned) == 1 and abandoned[0]["checked_out"] == 1


async def test_connections_given_back_in_time_close_gracefully(settings):
    engine = await _started_engine(settings)
    held = await engine.pool.acquire()

    async def finish_request() -> None:
        await asyncio.sleep(0.2)
        assert await held.fetchval("SELECT 1") == 1  # still usable while the close waits
        await engine.pool.release(held)

    finishing = asyncio.create_task(finish_request())
    with capture_logs() as logs:
        await close_pool(engine, timeout_s=5)
    await finishing
    assert engine.pool is None
    assert not [entry for entry in logs if entry["event"] == "database_connections_abandoned"]

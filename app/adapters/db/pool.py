"""Shutting the connection pool down without hanging on a connection never given back."""

from __future__ import annotations

import asyncio
from typing import Any

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


async def keep_session(connection: object) -> None:
    """Connection reset on release to the pool (the pool's `reset`). asyncpg's default
    (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL) costs a round trip per request; we
    use none of those session features, and asyncpg still rolls back any transaction left
    open before this runs."""


def release_at_once(pool: Any, connection: Any) -> bool:
    """Give an idle pooled connection back to the pool now, without awaiting: what
    `Pool.release` ends up doing for it (housekeeping, the reset, back in the queue, the
    inactivity timer re-armed) without the shielded task it runs that in, a task and a
    loop turn per unit of work. Nothing here awaits, so a cancellation cannot stop it
    half way (what the shield is for). False, and nothing done, for any other connection
    (in a transaction, closed, being cancelled, due to be closed, another reset than
    keep_session, an asyncpg without these internals): the caller releases it as usual."""
    try:
        holder, con = connection._holder, connection._con
        if con is None or holder._pool is not pool or pool._reset is not keep_session or pool._closed:
            return False
        protocol = con._protocol
        if (con.is_closed() or protocol.is_in_transaction() or con._top_xact is not None
                or protocol._is_cancelling() or protocol.queries_count >= holder._max_queries
                or holder._generation != pool._generation or holder._in_use is None):
            return False
        con._on_release()  # Pool.release: warns about listeners left behind
        con._listeners.clear()  # Connection._reset, for a connection outside a transaction
        con._log_listeners.clear()
        holder._timeout = None
        holder._release()
        holder._setup_inactive_callback()
    except AttributeError:  # another asyncpg: its own release
        return False
    return True

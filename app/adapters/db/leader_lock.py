"""Leader election through a session-level PostgreSQL advisory lock.

Leadership is the lock, held by a connection of its own (never a pooled one: releasing a
pooled connection resets its session and would free the lock; through PgBouncer in
transaction mode a session lock means nothing, so this connection must reach PostgreSQL
directly or through a session-mode pool). Losing the connection is losing leadership:
PostgreSQL frees the lock when the session ends, and the standby that asks next gets it.

Fencing: the leader asks PostgreSQL whether its session still holds the lock before each
round of work (`is_leader()`), with a short timeout; an error, a timeout or a missing lock
all answer False and drop the connection, so a leader cut off from the database stops
acting before (or while) a new one is elected. A dead client is noticed by the server
through TCP keepalives (set below), which bounds how long an orphaned lock lingers.

`listeners`: channels to LISTEN on while leading (the outbox relay's wake-ups); each
callback is also called once on taking the lead, to catch up with what nobody heard."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
import structlog

logger = structlog.get_logger("fusionxpay.leader")

LOCK_CLASS = 0x46585031  # "FXP1": the first key of our advisory locks (two-int4 form)
TRY_SQL = "SELECT pg_try_advisory_lock($1::int4, $2::int4)"
UNLOCK_SQL = "SELECT pg_advisory_unlock($1::int4, $2::int4)"
# Two-int4 advisory locks appear in pg_locks as classid=key1, objid=key2, objsubid=2.
HELD_SQL = """
SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
               AND granted AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2)
"""
# The server drops the session of a client gone silent after about idle + interval x count.
KEEPALIVES = {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3"}
LOST = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)

Connect = Callable[..., Awaitable[Any]]
Listener = Callable[[Any, int, str, str], None]  # asyncpg's (connection, pid, channel, payload)


def lock_key(name: str) -> int:
    """A stable positive int4 for a lock name (the deployment's namespace, say)."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


class AdvisoryLeaderLock:
    def __init__(self, dsn: str, name: str, *, check_timeout_s: float = 2.0, connect: Connect = asyncpg.connect,
                 listeners: Mapping[str, Listener] | None = None) -> None:
        self._dsn, self.name, self._key = dsn, name, lock_key(name)
        self._listeners = dict(listeners or {})
        self._timeout = check_timeout_s
        self._connect = connect
        self._connection: Any = None
        self._held = False

    @property
    def held(self) -> bool:
        """What the last check found (no round trip)."""
        return self._held

    @property
    def connection(self) -> Any:
        """The lock's connection while one is open (others may LISTEN on it)."""
        return self._connection

    async def is_leader(self) -> bool:
        """Whether this process leads now: confirms a held lock, or tries to take a free one."""
        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = None
                self._held = False
                self._connection = await self._connect(
                    self._dsn, timeout=self._timeout,
                    server_settings={**KEEPALIVES, "application_name": "fusionxpay-leader"})
            sql = HELD_SQL if self._held else TRY_SQL
            held = bool(await self._connection.fetchval(sql, LOCK_CLASS, self._key, timeout=self._timeout))
            if held and not self._held:
                for channel, listener in self._listeners.items():
                    await asyncio.wait_for(self._connection.add_listener(channel, listener), self._timeout)
                    listener(self._connection, 0, channel, "")
        except LOST as exc:
            self._lose(f"{type(exc).__name__}: {exc}")
            return False
        if held != self._held:
            logger.info("leadership_acquired" if held else "leadership_lost", lock=self.name)
        self._held = held
        return held

    def _lose(self, reason: str) -> None:
        if self._held:
            logger.warning("leadership_lost", lock=self.name, reason=reason)
        self._held = False
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.terminate()  # no graceful close over a connection that may be dead

    async def release(self) -> None:
        """Step down (shutdown): unlock and close, so a standby takes over at its next try."""
        connection, self._connection = self._connection, None
        held, self._held = self._held, False
        if connection is None:
            return
        try:
            if held:
                await connection.fetchval(UNLOCK_SQL, LOCK_CLASS, self._key, timeout=self._timeout)
            await connection.close(timeout=self._timeout)
        except LOST:
            connection.terminate()

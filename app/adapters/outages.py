"""Which failures mean "a dependency is down" rather than "a bug": the driver exception
families of PostgreSQL (asyncpg), Redis (redis-py) and the broker (Dramatiq, pika), in
one table. The HTTP layer answers them 503 + Retry-After, never 500; workers and the
readiness probe name the dependency from the same table."""

from __future__ import annotations

import asyncpg
import pika.exceptions
import redis.exceptions
from asyncpg import exceptions as pg
from dramatiq.errors import BrokerConnectionError

RETRY_AFTER_S = 2  # what clients are told to wait: a restart or failover takes seconds

OUTAGE_FAMILIES: tuple[tuple[str, tuple[type[BaseException], ...]], ...] = (
    # Connection lost or refused, server shutting down, starting up or recovering from a crash.
    ("database", (pg.PostgresConnectionError, pg.AdminShutdownError, pg.CrashShutdownError,
                  pg.CannotConnectNowError, pg.TooManyConnectionsError)),
    ("redis", (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)),
    ("broker", (BrokerConnectionError, pika.exceptions.AMQPConnectionError)),
)


def _closed_connection(exc: BaseException) -> bool:
    # asyncpg reports use of a connection the server dropped as an InterfaceError, and a
    # pooled connection left mid-operation by a server restart as an InternalClientError
    # ("cannot switch to state ...; another operation is in progress"): seen in the crash
    # test right after PostgreSQL restarts. A retry gets another connection. A pooled
    # connection the server closed while a request held it (between two of its statements)
    # is taken from the request's hands: "connection has been released back to the pool".
    if isinstance(exc, asyncpg.InterfaceError):
        return "closed" in str(exc) or "released back to the pool" in str(exc)
    return isinstance(exc, pg.InternalClientError) and "cannot switch to state" in str(exc)


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it was raised from or during (drivers wrap each other)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def outage_of(exc: BaseException) -> str | None:
    """The dependency `exc` says is unavailable ("database", "redis", "broker", or
    "network" for a bare socket error), or None when it is not an outage."""
    for cause in _causes(exc):
        for dependency, families in OUTAGE_FAMILIES:
            if isinstance(cause, families):
                return dependency
        if _closed_connection(cause):
            return "database"
    # Sockets refused, reset or timed out before a driver could say whose they were
    # (asyncpg connecting to a stopped server raises these bare).
    if any(isinstance(cause, (ConnectionError, TimeoutError, FileNotFoundError)) for cause in _causes(exc)):
        return "network"
    return None

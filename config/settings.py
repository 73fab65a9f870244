"""Typed settings, read once from the environment (FXP_* variables)."""

from __future__ import annotations

import os
from functools import lru_cache

import msgspec


class DatabaseSettings(msgspec.Struct, frozen=True):
    url: str = ""  # empty: the run/test commands start an embedded PostgreSQL and set it
    pool_min: int = 2
    pool_max: int = 20
    lock_timeout_ms: int = 5000  # a request waiting longer on a row/key lock gets 409


class RedisSettings(msgspec.Struct, frozen=True):
    url: str = ""


class ApiSettings(msgspec.Struct, frozen=True):
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # how providers reach us for callbacks; defaults to http://host:port
    max_body_bytes: int = 64 * 1024
    idempotency_ttl_s: int = 24 * 3600
    admin_api_key: str = ""  # empty: admin endpoints are disabled


class PaymentSettings(msgspec.Struct, frozen=True):
    max_amount_minor: int = 100_000_000
    max_attempts: int = 3
    dispatch: str = "inline"  # "inline": in-process after commit; "outbox": workers
    order_lock_timeout_s: float = 5.0


class Settings(msgspec.Struct, frozen=True):
    env: str = "dev"
    log_level: str = "INFO"
    data_dir: str = ".fusionxpay"
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    api: ApiSettings = ApiSettings()
    payments: PaymentSettings = PaymentSettings()

    @property
    def public_url(self) -> str:
        return self.api.public_url or f"http://{self.api.host}:{self.api.port}"


# Flat FXP_* names for the fields people set most; anything else: FXP_<GROUP>__<FIELD>.
ALIASES = {
    "FXP_DATABASE_URL": ("database", "url"),
    "FXP_REDIS_URL": ("redis", "url"),
    "FXP_PORT": ("api", "port"),
    "FXP_HOST": ("api", "host"),
    "FXP_PUBLIC_URL": ("api", "public_url"),
    "FXP_ADMIN_API_KEY": ("api", "admin_api_key"),
    "FXP_DATA_DIR": ("data_dir",),
    "FXP_LOG_LEVEL": ("log_level",),
    "FXP_ENV": ("env",),
}


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    environ = dict(os.environ if environ is None else environ)
    raw: dict = {}
    for name, value in environ.items():
        if name in ALIASES:
            path = ALIASES[name]
        elif name.startswith("FXP_") and "__" in name:
            path = tuple(part.lower() for part in name[4:].split("__"))
        else:
            continue
        target = raw
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
    return msgspec.convert(raw, Settings, strict=False)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from_env()

"""Piccolo configuration (PICCOLO_CONF=config.piccolo_conf). The engine is built from
FXP_DATABASE_URL; the run command sets it before anything imports this. No connection is
made until the pool starts, so a process that learns its database later (the test
session provisions one on demand) points the engine at it with configure()."""

from typing import Any

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from config.settings import DatabaseSettings, get_settings


def engine_config(database: DatabaseSettings) -> dict[str, Any]:
    dsn = database.url or "postgresql://postgres@127.0.0.1:5432/postgres"
    if database.pgbouncer:
        # Transaction pooling: a prepared statement lives on one server connection, the next
        # transaction may get another; startup parameters other than a few are refused.
        return {"dsn": dsn, "statement_cache_size": 0, "server_settings": {"application_name": "fusionxpay"}}
    return {
        "dsn": dsn,
        # A request that waits longer than this on a row or key lock gets a 409.
        "server_settings": {"lock_timeout": str(database.lock_timeout_ms), "application_name": "fusionxpay"},
    }


DB = PostgresEngine(config=engine_config(get_settings().database), log_queries=False)


def configure(database: DatabaseSettings) -> None:
    """Point DB at another database (before its pool starts)."""
    DB.config.clear()
    DB.config.update(engine_config(database))


APP_REGISTRY = AppRegistry(apps=["app.adapters.db.piccolo_app"])

"""Piccolo configuration (PICCOLO_CONF=config.piccolo_conf). The engine is built
from FXP_DATABASE_URL; the run and test commands set it before anything imports this."""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from config.settings import get_settings

_db = get_settings().database

DB = PostgresEngine(
    config={
        "dsn": _db.url or "postgresql://postgres@127.0.0.1:5432/postgres",
        # A request that waits longer than this on a row or key lock gets a 409.
        "server_settings": {"lock_timeout": str(_db.lock_timeout_ms), "application_name": "fusionxpay"},
    },
    log_queries=False,
)

APP_REGISTRY = AppRegistry(apps=["app.adapters.db.piccolo_app"])

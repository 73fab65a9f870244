"""Initial schema, applied with `piccolo migrations forwards fusionxpay`."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-22T18:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "initial schema: merchants, orders, attempts, refunds, outbox, inbox, idempotency"


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0001.sql",
                             "idempotency_keys, callback_inbox, outbox, refunds, payment_attempts, orders, merchants")

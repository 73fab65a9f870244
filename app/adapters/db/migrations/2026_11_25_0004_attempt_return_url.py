"""Payment attempts keep the merchant's return_url for the provider call."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-25T19:00:00:000004"
VERSION = "1.38.0"
DESCRIPTION = "payment attempts: return_url"


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0004_return_url.sql",
                             undo_sql="ALTER TABLE payment_attempts DROP COLUMN IF EXISTS return_url")

"""Merchant management: deactivation, API key rotation with a grace period, webhook
secret rotation with an overlap."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-26T01:00:00:000030"
VERSION = "1.38.0"
DESCRIPTION = "merchant management: merchant_api_keys, active, webhook secret rotation"

UNDO = """
DROP TABLE IF EXISTS merchant_api_keys;
DROP INDEX IF EXISTS merchants_newest;
ALTER TABLE merchants DROP COLUMN IF EXISTS active, DROP COLUMN IF EXISTS previous_webhook_secret,
    DROP COLUMN IF EXISTS previous_webhook_secret_expires_at, DROP COLUMN IF EXISTS updated_at,
    DROP COLUMN IF EXISTS api_key_rotation_id, DROP COLUMN IF EXISTS webhook_secret_rotation_id;
"""


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0030_merchant_management.sql", undo_sql=UNDO)

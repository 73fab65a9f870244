"""Workers: processed_events (consumer dedupe) and webhook_deliveries (delivery log)."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-22T18:00:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "workers: processed events, webhook deliveries"


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0002.sql", "webhook_deliveries, processed_events")

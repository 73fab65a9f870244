"""Indexes for the merchants' event log (GET /events): by merchant and time, by order."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-26T02:40:00:000040"
VERSION = "1.38.0"
DESCRIPTION = "outbox: indexes for GET /events (merchant + time, merchant + order)"


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0040_outbox_merchant_events.sql",
                             undo_sql="DROP INDEX IF EXISTS outbox_merchant_events_idx; "
                                      "DROP INDEX IF EXISTS outbox_merchant_order_idx;")

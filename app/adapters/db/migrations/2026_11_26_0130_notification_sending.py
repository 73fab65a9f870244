"""Shopper notifications: a send in flight is recorded (in-doubt deliveries are looked up,
not resent blind); indexes for the operator's delivery listing."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-26T13:00:00:000130"
VERSION = "1.38.0"
DESCRIPTION = "notification_deliveries: sending_since, sending_digest; listing indexes"
UNDO = ("DROP INDEX IF EXISTS notification_deliveries_created_idx; "
        "DROP INDEX IF EXISTS notification_deliveries_status_idx; "
        "ALTER TABLE notification_deliveries DROP COLUMN IF EXISTS sending_since, "
        "DROP COLUMN IF EXISTS sending_digest")


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0130_notification_sending.sql", undo_sql=UNDO)

"""Shopper notifications: durable delivery jobs, their attempts, and preferences."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-26T05:00:00:000050"
VERSION = "1.38.0"
DESCRIPTION = "notification_deliveries, notification_attempts, notification_preferences"


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0050_notifications.sql",
                             "notification_attempts, notification_deliveries, notification_preferences")

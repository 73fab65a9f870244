"""Merchant webhook deliveries kept as durable jobs in PostgreSQL (webhook_schedule)."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-25T20:30:00:000020"
VERSION = "1.38.0"
DESCRIPTION = "webhook_schedule: durable webhook delivery jobs with leases"


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0020_webhook_schedule.sql", "webhook_schedule")

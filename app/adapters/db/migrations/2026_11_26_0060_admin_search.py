"""Admin search, timelines and reports: indexes for cross-merchant searches (no full scans)
and provider_calls, the log of every provider call with its latency."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-26T06:00:00:000060"
VERSION = "1.38.0"
DESCRIPTION = "admin search indexes and provider_calls"

UNDO = """
DROP TABLE IF EXISTS provider_calls;
DROP INDEX IF EXISTS orders_created_idx, orders_reference_idx, orders_customer_email_idx, orders_status_created_idx,
    payment_attempts_created_idx, payment_attempts_last4_idx, payment_attempts_provider_created_idx,
    outbox_aggregate_idx, refunds_created_idx;
"""


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0060_admin_search.sql", undo_sql=UNDO)

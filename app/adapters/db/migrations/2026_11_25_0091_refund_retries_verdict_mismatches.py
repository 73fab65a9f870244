"""Refund retries kept in PostgreSQL, refund targets, and the provider verdict mismatch log."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-25T21:00:00:000091"
VERSION = "1.38.0"
DESCRIPTION = "refund retry schedule and targets; provider verdict mismatches"


async def forwards():
    # Backwards drops the mismatch log only; the added refund columns are harmless to keep.
    return raw_sql_migration(ID, DESCRIPTION, "schema_refund_retries_mismatches.sql",
                             "provider_verdict_mismatches")

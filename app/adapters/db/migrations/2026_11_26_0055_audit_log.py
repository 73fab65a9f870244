"""The audit trail: audit_log, append-only (a trigger refuses UPDATE, DELETE, TRUNCATE)."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-26T05:30:00:000055"
VERSION = "1.38.0"
DESCRIPTION = "audit_log: the append-only audit trail"


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0055_audit_log.sql", undo_sql=(
        "DROP TABLE IF EXISTS audit_log CASCADE; DROP FUNCTION IF EXISTS audit_log_append_only()"))

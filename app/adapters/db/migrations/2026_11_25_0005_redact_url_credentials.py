"""Credentials in stored webhook URLs are redacted (they are refused from now on)."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-25T19:30:00:000005"
VERSION = "1.38.0"
DESCRIPTION = "redact user:password@ in stored webhook URLs"


async def forwards():
    # Nothing to undo: the redacted credentials are gone on purpose.
    return raw_sql_migration(ID, DESCRIPTION, "schema_0005_redact_url_credentials.sql", undo_sql="SELECT 1")

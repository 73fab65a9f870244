"""fxp_write_refused(): aborts a one-statement commit whose insert was refused."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-26T13:10:00:000131"
VERSION = "1.38.0"
DESCRIPTION = "fxp_write_refused(): aborts a one-statement commit whose insert was refused"
UNDO = "DROP FUNCTION IF EXISTS fxp_write_refused(text)"


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0131_write_refused.sql", undo_sql=UNDO)

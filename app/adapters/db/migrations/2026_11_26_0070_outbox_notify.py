"""Wake the outbox relay when events commit: NOTIFY fxp_outbox from a statement trigger."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-26T07:00:00:000070"
VERSION = "1.38.0"
DESCRIPTION = "outbox: NOTIFY fxp_outbox on insert (delivered at commit)"
UNDO = "DROP TRIGGER IF EXISTS outbox_notify ON outbox; DROP FUNCTION IF EXISTS fxp_outbox_notify()"


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0070_outbox_notify.sql", undo_sql=UNDO)

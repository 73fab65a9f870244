"""outbox.traceparent: the trace an event was written in, carried to the workers."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-26T05:31:00:000056"
VERSION = "1.38.0"
DESCRIPTION = "outbox.traceparent: W3C trace context carried through the outbox"


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0056_outbox_traceparent.sql",
                             undo_sql="ALTER TABLE outbox DROP COLUMN IF EXISTS traceparent")

"""orders_customer_email_idx only over orders that have a customer email."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-26T13:40:00:000134"
VERSION = "1.38.0"
DESCRIPTION = "orders_customer_email_idx only over orders that have a customer email"
UNDO = """
DROP INDEX orders_customer_email_idx;
CREATE INDEX orders_customer_email_idx ON orders (lower(customer ->> 'email'), created_at DESC, id DESC);
"""


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0134_email_index_partial.sql", undo_sql=UNDO)

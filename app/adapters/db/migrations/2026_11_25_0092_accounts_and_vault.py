"""Users, refresh-token families, saved cards (the vault), and orders.user_id."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-25T21:30:00:000092"
VERSION = "1.38.0"
DESCRIPTION = "accounts: users, refresh tokens, saved cards, orders.user_id"


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0092_accounts.sql", "saved_cards, refresh_tokens, users")

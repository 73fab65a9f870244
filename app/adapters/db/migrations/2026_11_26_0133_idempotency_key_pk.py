"""idempotency_keys: (merchant_id, key) as the primary key, the surrogate id dropped."""

from app.adapters.db.migrations.raw_sql import raw_sql_migration

ID = "2026-11-26T13:30:00:000133"
VERSION = "1.38.0"
DESCRIPTION = "idempotency_keys: (merchant_id, key) as the primary key, the unused surrogate id dropped"
UNDO = """
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_merchant_id_key_key UNIQUE (merchant_id, key);
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_pkey;
ALTER TABLE idempotency_keys ADD COLUMN id bigserial PRIMARY KEY;
"""


async def forwards():
    return raw_sql_migration(ID, DESCRIPTION, "schema_0133_idempotency_key_pk.sql", undo_sql=UNDO)

"""Migration 0005: credentials in webhook URLs stored before they were refused are redacted."""

from __future__ import annotations

import uuid
from pathlib import Path

import app.adapters.db.migrations as migrations

SQL = (Path(migrations.__file__).parent / "schema_0005_redact_url_credentials.sql").read_text()


async def test_stored_credentials_are_redacted(container):
    created = await container.merchants.create("Old shop", "https://merchant.example/hooks")
    event_id = uuid.uuid4()
    async with container.engine.transaction() as tx:
        conn = tx.connection
        await conn.execute("UPDATE merchants SET webhook_url = 'https://alice:s3cret@merchant.example/hooks'"
                           " WHERE id = $1", created.merchant.id)
        await conn.execute("INSERT INTO webhook_deliveries (event_id, merchant_id, attempt, url, status_code,"
                           " latency_ms, error) VALUES ($1, $2, 1, 'http://bob:pw@10.0.0.1/h', 200, 5, NULL)",
                           event_id, created.merchant.id)
        await conn.execute(SQL)
        url = await conn.fetchval("SELECT webhook_url FROM merchants WHERE id = $1", created.merchant.id)
        logged = await conn.fetchval("SELECT url FROM webhook_deliveries WHERE event_id = $1", event_id)
    assert url == "https://[REDACTED]@merchant.example/hooks"
    assert logged == "http://[REDACTED]@10.0.0.1/h"

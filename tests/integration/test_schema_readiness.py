"""/ready stays 503 until the schema is at the migration this code expects (issue 17,
item 7: a new API version waits for the migration Job). Real PostgreSQL."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import httpx
import pytest

from app.adapters.db.schema_version import SchemaBehind, SchemaVersion, expected_migration

MIGRATIONS = Path(__file__).resolve().parents[2] / "app" / "adapters" / "db" / "migrations"
NOT_YET = "2999-01-01T00:00:00:000000"


async def _ready(container) -> httpx.Response:
    from app.entrypoints.http.app import create_app

    transport = httpx.ASGITransport(app=create_app(container))
    async with httpx.AsyncClient(transport=transport, base_url="http://fusionxpay.test") as client:
        return await client.get("/ready")


def test_the_expected_version_is_the_newest_migration_shipped():
    ids = [re.search(r'^ID = "([^"]+)"', path.read_text(), re.M).group(1) for path in MIGRATIONS.glob("2*.py")]
    assert expected_migration() == max(ids)


async def test_schema_at_the_expected_migration_is_ready(container):
    assert await SchemaVersion(container.engine).check() is True
    response = await _ready(container)
    assert response.status_code == 200 and response.json()["checks"]["schema"]["status"] == "ok"


async def test_schema_behind_is_not_ready_until_the_migration_is_recorded(container):
    behind = SchemaVersion(container.engine, expected=NOT_YET)
    with pytest.raises(SchemaBehind):
        await behind.check()
    response = await _ready(dataclasses.replace(container, schema=behind))
    assert response.status_code == 503 and int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["down"] == ["schema"] and body["checks"]["schema"]["error"] == "SchemaBehind"
    assert body["checks"]["database"]["status"] == "ok"

    # The migration Job records it: ready from then on (and no longer asks PostgreSQL).
    async with container.engine.transaction() as transaction:
        await transaction.connection.execute(
            "INSERT INTO migration (name, app_name, ran_on) VALUES ($1, 'fusionxpay', now())", NOT_YET)
    try:
        response = await _ready(dataclasses.replace(container, schema=behind))
        assert response.status_code == 200 and response.json()["checks"]["schema"]["status"] == "ok"
    finally:
        async with container.engine.transaction() as transaction:
            await transaction.connection.execute("DELETE FROM migration WHERE name = $1", NOT_YET)

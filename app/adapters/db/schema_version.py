"""Whether the database schema is at the version this code expects (readiness).

During a rolling update the migration Job runs first; an API pod of the new version must
not take traffic before the Job has applied its migrations. The expected version is the
newest migration this code ships (IDs are timestamps: the greatest is the newest); the
schema is at it once Piccolo's `migration` table records it. A newer schema (the next
release migrated first) counts too: migrations are additive for one release."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from piccolo.engine.postgres import PostgresEngine

MIGRATIONS = Path(__file__).with_name("migrations")
ID_LINE = re.compile(r'^ID = "([^"]+)"', re.MULTILINE)
APPLIED_SQL = "SELECT EXISTS (SELECT 1 FROM migration WHERE app_name = 'fusionxpay' AND name = $1)"


class SchemaBehind(Exception):
    """The expected migration is not applied yet (the readiness check's error name)."""


@lru_cache(maxsize=1)
def expected_migration() -> str:
    ids = [found.group(1) for path in MIGRATIONS.glob("[0-9]*.py") if (found := ID_LINE.search(path.read_text()))]
    return max(ids)


class SchemaVersion:
    def __init__(self, engine: PostgresEngine, expected: str | None = None) -> None:
        self._engine = engine
        self.expected = expected or expected_migration()
        self._reached = False  # once there, it stays there: no query per probe

    async def check(self) -> bool:
        """True once the expected migration is applied; raises SchemaBehind before."""
        if not self._reached:
            async with self._engine.transaction() as transaction:
                self._reached = bool(await transaction.connection.fetchval(APPLIED_SQL, self.expected))
            if not self._reached:
                raise SchemaBehind(self.expected)
        return True

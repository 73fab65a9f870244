"""Piccolo records a migration as applied by its ID: two migrations sharing one (easy when
several branches add one the same day) would leave the second never applied."""

from __future__ import annotations

import re
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parents[2] / "app" / "adapters" / "db" / "migrations"


def test_every_migration_has_its_own_id():
    ids = [match.group(1) for path in sorted(MIGRATIONS.glob("2*.py"))
           if (match := re.search(r'^ID = "([^"]+)"', path.read_text(), re.M))]
    assert len(ids) == len(list(MIGRATIONS.glob("2*.py"))) and len(set(ids)) == len(ids), ids

"""Integration tests: real PostgreSQL and Redis (tests/conftest.py provisions them)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _servers(test_servers):
    """Every test here runs with the session's PostgreSQL and Redis up (tests/conftest.py)."""
    return test_servers

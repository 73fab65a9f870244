"""Fixtures of the provider contract tests: respx mocks the transport, nothing leaves the process."""

from __future__ import annotations

import httpx
import pytest
import stamina


@pytest.fixture(autouse=True)
def real_stamina_retries():
    """These tests count tries and time Retry-After waits, so stamina must really retry,
    whatever another suite set globally (set_testing / set_active)."""
    was_active = stamina.is_active()
    stamina.set_active(True)
    with stamina.set_testing(False):
        yield
    stamina.set_active(was_active)


@pytest.fixture
async def http_client():
    async with httpx.AsyncClient() as client:
        yield client

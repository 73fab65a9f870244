"""End-to-end fixtures: the API and the sandbox gateway as real processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.e2e.live_stack import SANDBOX_API_KEY, LiveStack

FINAL = {"PAYMENT_DONE", "PAYMENT_FAILED", "ORDER_CANCELLED", "FULFILLMENT_STARTED"}


@pytest.fixture(scope="session")
def live_stack(container) -> LiveStack:
    stack = LiveStack({"FXP_PAYMENTS__PENDING_TIMEOUT_S": "1"}).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
async def api(live_stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_stack.api_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
async def sandbox(live_stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_stack.sandbox_url, timeout=30,
                                 headers={"Authorization": f"Bearer {SANDBOX_API_KEY}"}) as client:
        yield client


async def wait_for_order(api: httpx.AsyncClient, merchant, order_id: str, statuses=FINAL,
                         timeout_s: float = 15.0) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        order = (await api.get(f"/orders/{order_id}", headers=merchant.headers)).json()
        if order["status"] in statuses:
            return order
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"order stayed {order['status']}: {order}")
        await asyncio.sleep(0.05)


@pytest.fixture(scope="session", autouse=True)
def _servers(test_servers):
    """Every test here runs with the session's PostgreSQL and Redis up (tests/conftest.py)."""
    return test_servers

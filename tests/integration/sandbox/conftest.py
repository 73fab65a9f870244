"""Fixtures for the sandbox gateway and its adapter: a fast gateway (millisecond delays),
an in-process callback receiver, and clients to reach the gateway.

Two ways in, on purpose: litestar's AsyncTestClient runs the app (and its lifespan) in a
blocking portal on its own thread, so its requests are serialised; httpx.ASGITransport
runs the app on the test's own event loop, so requests really interleave (needed for the
concurrency tests and for timing out a held answer) and our adapter can use it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.adapters.providers.sandbox import SandboxProvider
from sandbox_gateway import GatewaySettings, create_app
from tests.integration.sandbox.callback_receiver import CallbackReceiver
from tests.integration.sandbox.support import API_KEY, AUTH, GATEWAY_URL, SECRET, sandbox_settings


@pytest.fixture
def gateway_settings() -> GatewaySettings:
    return GatewaySettings(callback_secret=SECRET, api_key=API_KEY, callback_delay_s=0.01, timeout_hold_s=0.3,
                           callback_max_attempts=3, callback_backoff_s=0.01, callback_timeout_s=1.0)


@pytest.fixture
def receiver() -> CallbackReceiver:
    return CallbackReceiver()


@pytest.fixture
def gateway_app(gateway_settings: GatewaySettings, receiver: CallbackReceiver) -> Litestar:
    return create_app(gateway_settings, callback_transport=receiver.transport)


@pytest.fixture
async def gateway(gateway_app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(gateway_app) as client:  # runs the lifespan; shutdown cancels background tasks
        client.headers.update(AUTH)
        yield client


@pytest.fixture
async def same_loop_gateway(gateway_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway app on this event loop (no lifespan: teardown stops its background work)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway_app), base_url=GATEWAY_URL,
                                 headers=AUTH) as client:
        yield client
    await gateway_app.state.gateway.shutdown()


@pytest.fixture
async def provider(gateway_app: Litestar, same_loop_gateway: httpx.AsyncClient) -> AsyncIterator[SandboxProvider]:
    """Our adapter talking to the gateway app in process, on a client of its own: it
    authenticates itself with its configured key."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway_app)) as client:
        yield SandboxProvider(sandbox_settings(), client)

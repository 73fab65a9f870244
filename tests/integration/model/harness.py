"""The real service for the payments state machine: FusionXPay's Litestar app (real
PostgreSQL and Redis, inline dispatch; the session container's engine and Redis, whose
pools live on the session's event loop) and the sandbox gateway app, both in process. The gateway's callbacks go to the app's POST /callbacks/sandbox
and are recorded, so the machine can replay them (duplicates, out of order)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from app.adapters.providers.registry import ProviderRegistry
from app.adapters.providers.resilience import ResilientProvider
from app.adapters.providers.sandbox import SandboxProvider
from app.bootstrap import Container, build_container
from app.entrypoints.http.app import create_app
from config.settings import Settings
from sandbox_gateway import GatewaySettings
from sandbox_gateway import create_app as create_gateway
from sandbox_gateway.service import Gateway
from tests.integration.sandbox.support import API_KEY, SECRET, sandbox_settings


class Stack:
    def __init__(self, settings: Settings, session: Container) -> None:
        self.callbacks: list[httpx.Request] = []  # every delivery the gateway made, in order
        gateway_settings = GatewaySettings(callback_secret=SECRET, api_key=API_KEY, callback_delay_s=0.005,
                                           timeout_hold_s=0.05, callback_max_attempts=2, callback_backoff_s=0.01)
        self.gateway_app = create_gateway(gateway_settings, callback_transport=httpx.MockTransport(self._forward))
        self.gateway: Gateway = self.gateway_app.state.gateway
        to_gateway = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.gateway_app))
        providers = ProviderRegistry([ResilientProvider(SandboxProvider(sandbox_settings(), to_gateway))])
        self.container: Container = build_container(settings, providers=providers, engine=session.engine,
                                                    redis=session.redis)
        self.app = create_app(self.container)
        self.api = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://fusionxpay.test",
                                     timeout=30)

    async def _forward(self, request: httpx.Request) -> httpx.Response:
        self.callbacks.append(request)
        answer = await self.api.post(request.url.path, content=request.content, headers=dict(request.headers))
        return httpx.Response(answer.status_code, content=answer.content)

    async def start(self) -> dict[str, str]:
        """The headers of a fresh merchant (the session container started the pools)."""
        created = await self.container.merchants.create("Model shop")
        return {"Authorization": f"Bearer {created.api_key}"}

    async def settle(self, timeout_s: float = 5.0) -> None:
        """Until the gateway has no settlement in flight and the app's consumers are idle."""
        async with asyncio.timeout(timeout_s):
            while True:
                await self.container.bus.drain()
                if not self.gateway.settlement._tasks:  # noqa: SLF001 (the gateway's in-flight work)
                    await self.container.bus.drain()
                    return
                await asyncio.sleep(0.002)

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        async with self.container.engine.transaction() as tx:
            return list(await tx.connection.fetch(sql, *args))

    async def stop(self) -> None:
        await self.gateway.shutdown()
        await self.api.aclose()
        await self.container.bus.drain()
        await self.container.providers.aclose()  # the pools stay: they are the session's

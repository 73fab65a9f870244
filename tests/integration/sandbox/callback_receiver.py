"""An in-process stand-in for FusionXPay's POST /callbacks/sandbox: the gateway's
callback client is given `receiver.transport`, so deliveries never touch the network."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx


class CallbackReceiver:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        # What to answer next, one item per delivery: a status code, or "unreachable".
        self.script: list[int | str] = []

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.script.pop(0) if self.script else 200
        if answer == "unreachable":
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(int(answer), json={"received": True})

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]

    async def wait_for(self, count: int, timeout_s: float = 3.0) -> list[httpx.Request]:
        """Wait until at least `count` deliveries arrived; fail the test if they do not."""
        async with asyncio.timeout(timeout_s):
            while len(self.requests) < count:
                await asyncio.sleep(0.005)
        return self.requests

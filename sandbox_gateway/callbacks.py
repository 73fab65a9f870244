"""Delivers signed callbacks, retrying with exponential backoff when the receiver
answers non-2xx or cannot be reached, and records every delivery attempt."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import msgspec

from sandbox_gateway.callback_http import CallbackClient, CallbackError
from sandbox_gateway.ledger import Ledger
from sandbox_gateway.schemas import CallbackEvent, Delivery
from sandbox_gateway.settings import GatewaySettings
from sandbox_gateway.signing import signed_headers

log = logging.getLogger("sandbox_gateway.callbacks")


class CallbackDispatcher:
    def __init__(self, settings: GatewaySettings, ledger: Ledger,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings, self._ledger, self._transport = settings, ledger, transport
        self._client: httpx.AsyncClient | None = None  # with a transport (tests)
        self._callbacks: CallbackClient | None = None  # otherwise (callback_http.py)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        # Clients are made on first use, so the app also works when served without a lifespan.
        if self._transport is None:
            if self._callbacks is None:
                self._callbacks = CallbackClient(self._settings.callback_timeout_s)
            return await self._callbacks.post(url, body, headers)
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(transport=self._transport, timeout=self._settings.callback_timeout_s)
        try:
            return (await self._client.post(url, content=body, headers=headers)).status_code
        except httpx.HTTPError as exc:
            raise CallbackError(f"{type(exc).__name__}: {exc}") from None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._callbacks is not None:
            await self._callbacks.aclose()
            self._callbacks = None

    async def deliver(self, event: CallbackEvent, url: str) -> bool:
        """Deliver one event until the receiver answers 2xx or the attempts run out.
        The body (and so the event id) stays identical; each attempt is signed afresh
        with the current time, as a receiver with a timestamp tolerance expects."""
        body = msgspec.json.encode(event)
        attempts = max(1, self._settings.callback_max_attempts)
        for attempt in range(1, attempts + 1):
            headers = {"Content-Type": "application/json", **signed_headers(self._settings.callback_secret, body)}
            status_code: int | None = None
            error: str | None = None
            try:
                status_code = await self._post(url, body, headers)
            except CallbackError as exc:
                error = str(exc)
            ok = status_code is not None and 200 <= status_code < 300
            self._ledger.deliveries.append(
                Delivery(event.id, event.type, url, attempt, status_code, error, ok, time.time()))
            log.info("callback %s %s attempt %d -> %s", event.type, event.id, attempt, status_code or error)
            if ok:
                return True
            if attempt < attempts:
                await asyncio.sleep(self._settings.callback_backoff_s * 2 ** (attempt - 1))
        log.warning("callback %s %s gave up after %d attempts", event.type, event.id, attempts)
        return False

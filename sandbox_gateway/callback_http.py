"""The HTTP client that delivers the gateway's callbacks: POST a small body, keep the status.

aiohttp, not httpx: httpx's connection pool rescans every connection and waiting request on
each send (with anyio and h11 underneath), which made the callback most of the gateway's
CPU per payment in the payment-flow benchmark (issue 17, item 2). aiohttp keeps idle
HTTP/1.1 connections per host with a C parser: about a tenth of httpx's CPU per callback
here. Tests that receive callbacks in process hand the gateway an httpx transport instead
(CallbackDispatcher)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp

MAX_IDLE_PER_HOST = 32


class CallbackError(Exception):
    """No answer: the connection failed, timed out, or the answer was not HTTP/1.x."""


class CallbackClient:
    def __init__(self, timeout_s: float) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # Made on first use: a session belongs to the running loop.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, cookie_jar=aiohttp.DummyCookieJar(),  # a receiver's cookies mean nothing here
                connector=aiohttp.TCPConnector(limit_per_host=MAX_IDLE_PER_HOST))
        return self._session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` to `url`; the answer's status code. Raises CallbackError."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise CallbackError(f"UnsupportedProtocol: cannot deliver to {url!r}")
        try:
            async with self._open().post(url, data=body, headers=dict(headers), allow_redirects=False) as answer:
                await answer.read()  # read past the body, so the connection can be reused
                return answer.status
        except (TimeoutError, asyncio.TimeoutError):
            raise CallbackError(f"Timeout: no answer within {self._timeout_s}s") from None
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            cause = f" ({type(exc.__cause__).__name__})" if exc.__cause__ is not None else ""
            raise CallbackError(f"{type(exc).__name__}{cause}: {exc}") from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

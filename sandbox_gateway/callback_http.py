"""The HTTP client that delivers the gateway's callbacks: POST a small body, keep the status.

httpx cost the gateway more CPU per callback than the rest of a payment's work together
(its connection pool rescans every connection and waiting request on each send, with anyio
and h11 underneath: issue 17, item 2). A callback needs much less: one POST whose answer
matters only by its status. So this client keeps idle HTTP/1.1 connections per host (the
receiver is nearly always the same FusionXPay), writes the request in one go, reads the
status line and headers, and reads past the body (Content-Length, chunked, or until the
server closes) to reuse the connection. http and https. Tests that receive callbacks in
process hand the gateway an httpx transport instead (CallbackDispatcher)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit

MAX_HEAD_BYTES = 64 * 1024  # a status line and headers longer than this are refused
MAX_IDLE_PER_HOST = 32
_Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]
_Origin = tuple[str, str, int]  # scheme, host, port


class CallbackError(Exception):
    """No answer: the connection failed, timed out, or the answer was not HTTP/1.x."""


class _Stale(Exception):
    """A reused connection the server had closed before our request reached it."""


class CallbackClient:
    def __init__(self, timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` to `url`; the answer's status code. Raises CallbackError."""
        try:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise CallbackError(f"UnsupportedProtocol: cannot deliver to {url!r}")
            origin = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            request = _request_bytes(target, parts.netloc, body, headers)
            async with asyncio.timeout(self._timeout_s):
                while (connection := self._take_idle(origin)) is not None:
                    try:  # a reused connection may have been closed by the server meanwhile
                        return await self._exchange(origin, connection, request, reused=True)
                    except _Stale:
                        continue
                return await self._exchange(origin, await self._connect(origin), request, reused=False)
        except TimeoutError:
            raise CallbackError(f"Timeout: no answer within {self._timeout_s}s") from None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, _Stale) as exc:
            raise CallbackError(f"{type(exc).__name__}: {exc}") from None

    async def aclose(self) -> None:
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for _, writer in connections:
                writer.close()

    def _take_idle(self, origin: _Origin) -> _Connection | None:
        connections = self._idle.get(origin)
        while connections:
            reader, writer = connections.pop()  # the most recently used: the likeliest alive
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return None

    async def _connect(self, origin: _Origin) -> _Connection:
        scheme, host, port = origin
        if scheme == "https" and self._tls is None:
            self._tls = ssl.create_default_context()
        return await asyncio.open_connection(host, port, limit=MAX_HEAD_BYTES,
                                             ssl=self._tls if scheme == "https" else None)

    async def _exchange(self, origin: _Origin, connection: _Connection, request: bytes, *, reused: bool) -> int:
        reader, writer = connection
        reusable = False
        try:
            try:
                writer.write(request)
                await writer.drain()
                head = await reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                # Nothing came back on a kept-alive connection: the server had closed it.
                if reused and not (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                    raise _Stale() from None
                raise
            status, version, fields = _parse_head(head)
            while 100 <= status < 200:  # an interim answer (we never ask for one): the real one follows
                status, version, fields = _parse_head(await reader.readuntil(b"\r\n\r\n"))
            reusable = await _read_past_body(reader, status, fields) and version == "HTTP/1.1" \
                and "close" not in fields.get("connection", "").lower()
            return status
        finally:
            if reusable and len(idle := self._idle.setdefault(origin, [])) < MAX_IDLE_PER_HOST:
                idle.append(connection)
            else:
                writer.close()


def _request_bytes(target: str, netloc: str, body: bytes, headers: Mapping[str, str]) -> bytes:
    lines = [f"POST {target} HTTP/1.1", f"Host: {netloc}", f"Content-Length: {len(body)}"]
    for name, value in headers.items():
        if name.lower() in ("host", "content-length"):
            continue
        if "\r" in name or "\n" in name or "\r" in value or "\n" in value:
            raise ValueError("a header holds a line break")
        lines.append(f"{name}: {value}")
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + body


def _parse_head(head: bytes) -> tuple[int, str, dict[str, str]]:
    status_line, *lines = head[:-4].decode("latin-1").split("\r\n")
    version, _, rest = status_line.partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
        raise ValueError(f"not an HTTP/1.x answer: {status_line[:40]!r}")
    fields: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return int(code), version, fields


async def _read_past_body(reader: asyncio.StreamReader, status: int, fields: Mapping[str, str]) -> bool:
    """Consume the body; whether the connection is still usable afterwards."""
    if status in (204, 304):  # never a body
        return True
    if "chunked" in fields.get("transfer-encoding", "").lower():
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the empty line
                    pass
                return True
            await reader.readexactly(size + 2)
    if (length := fields.get("content-length")) is not None:
        await reader.readexactly(int(length))
        return True
    while await reader.read(65536):  # delimited by the close
        pass
    return False

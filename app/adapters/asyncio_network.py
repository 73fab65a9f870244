"""httpx's transport (httpcore's pool, HTTP/1.1, TLS) on asyncio's own streams instead of
anyio's, for the provider clients: a provider call is most of a dispatch's CPU in a worker
(issue 17, item 2), and the default backend's layers cost the most of it after httpx
itself. Before each request httpcore asks every idle connection of its pool whether the
server closed it (`is_readable`); anyio's answer is a poll() system call per connection,
here it is the connection's own state (the event loop already read the server's bytes
or its end of stream). respx still mocks these clients: it patches httpcore's pool.

Measured on one process against a local keep-alive server (CPU per POST): 407 -> 343 us
one at a time, 614 -> 417 us eight at a time."""

from __future__ import annotations

import asyncio
import ssl
import typing

import httpcore
import httpx
from httpx._config import DEFAULT_LIMITS, create_ssl_context

READ_BUFFER_HIGH = 256 * 1024  # stop reading from the socket past this many unread bytes


class _Connection(asyncio.Protocol):
    """One connection's received bytes, whether the peer ended it, and write flow control."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.ended = False  # end of stream or connection lost: nothing more will arrive
        self.lost: Exception | None = None
        self.reading_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None  # set while the transport's buffer is full

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = typing.cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > READ_BUFFER_HIGH and self.transport is not None and not self.reading_paused:
            self.transport.pause_reading()
            self.reading_paused = True
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended, self.lost = True, exc
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def readable(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    async def drained(self) -> None:
        if self._drained is not None:
            await asyncio.shield(self._drained)


class AsyncioStream(httpcore.AsyncNetworkStream):
    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        connection = self._connection
        if not connection.buffer and not connection.ended:
            try:
                async with asyncio.timeout(timeout):
                    await connection.readable()
            except TimeoutError:
                raise httpcore.ReadTimeout(f"no data within {timeout} s") from None
        if connection.buffer:
            data = bytes(connection.buffer[:max_bytes])
            del connection.buffer[:max_bytes]
            if connection.reading_paused and len(connection.buffer) <= READ_BUFFER_HIGH:
                connection.reading_paused = False
                if connection.transport is not None:
                    connection.transport.resume_reading()
            return data
        if connection.lost is not None:
            raise httpcore.ReadError(str(connection.lost) or type(connection.lost).__name__)
        return b""  # the server ended the stream

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        connection = self._connection
        if not buffer:
            return
        if connection.ended or connection.transport is None or connection.transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        connection.transport.write(buffer)
        try:
            async with asyncio.timeout(timeout):
                await connection.drained()
        except TimeoutError:
            raise httpcore.WriteTimeout(f"could not write within {timeout} s") from None
        if connection.lost is not None:
            raise httpcore.WriteError(str(connection.lost) or type(connection.lost).__name__)

    async def aclose(self) -> None:
        if self._connection.transport is not None:
            self._connection.transport.close()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        connection = self._connection
        if connection.transport is None:
            raise httpcore.ConnectError("the connection is closed")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                tls = await loop.start_tls(connection.transport, connection, ssl_context,
                                           server_hostname=server_hostname)
        except TimeoutError:
            connection.transport.close()
            raise httpcore.ConnectTimeout(f"no TLS handshake within {timeout} s") from None
        except (OSError, ssl.SSLError, ConnectionError) as exc:
            connection.transport.close()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if tls is None:
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        connection.transport = tls
        return self

    def get_extra_info(self, info: str) -> typing.Any:
        connection = self._connection
        if info == "is_readable":  # an idle connection with news is one the server closed
            return connection.ended or bool(connection.buffer)
        name = _TRANSPORT_INFO.get(info)
        if name is None or connection.transport is None:
            return None
        return connection.transport.get_extra_info(name)


_TRANSPORT_INFO = {"ssl_object": "ssl_object", "client_addr": "sockname", "server_addr": "peername",
                   "socket": "socket"}  # httpcore's names -> asyncio's


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    _Connection, host, port, local_addr=(local_address, 0) if local_address else None)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"no connection within {timeout} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        if socket_options and connection.transport is not None:
            sock = connection.transport.get_extra_info("socket")
            for option in socket_options:
                sock.setsockopt(*option)
        return AsyncioStream(connection)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[typing.Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("provider calls go over TCP")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class AsyncioTransport(httpx.AsyncHTTPTransport):
    """httpx's default transport (its pool limits, TLS verification and HTTP/1.1) on the
    asyncio backend above. Proxies from the environment still apply: httpx mounts its
    proxy transports in front of this one, as in front of its default."""

    def __init__(self, verify: ssl.SSLContext | str | bool = True) -> None:
        super().__init__()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=create_ssl_context(verify=verify),
            max_connections=DEFAULT_LIMITS.max_connections,
            max_keepalive_connections=DEFAULT_LIMITS.max_keepalive_connections,
            keepalive_expiry=DEFAULT_LIMITS.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )

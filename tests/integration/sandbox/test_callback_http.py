"""The gateway's callback client (sandbox_gateway/callback_http.py, aiohttp) against real sockets:
what it sends, the ways an answer can end, kept-alive connections, and failures."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from sandbox_gateway.callback_http import CallbackClient, CallbackError


class Server:
    """A TCP server answering each request with `answer(request number)`, then closing the
    connection if `close_after` says so; records requests and connections."""

    def __init__(self, answer: Callable[[int], bytes], close_after: Callable[[int], bool] = lambda _: False) -> None:
        self.answer, self.close_after = answer, close_after
        self.requests: list[bytes] = []
        self.connections = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                self.requests.append(head + await reader.readexactly(length))
                number = len(self.requests)
                writer.write(self.answer(number))
                await writer.drain()
                if self.close_after(number):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


Serve = Callable[[Server], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(server: Server) -> str:
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        servers.append(listening)
        return f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}/callbacks/sandbox?x=1"

    yield start
    for listening in servers:
        listening.close()


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_it_posts_the_body_with_its_headers_and_reuses_the_connection(serve: Serve) -> None:
    server = Server(lambda _: OK)
    url = await serve(server)
    client = CallbackClient(timeout_s=5)
    statuses = [await client.post(url, b'{"n":%d}' % n, {"X-Sandbox-Signature": "v1=abc"}) for n in range(3)]
    await client.aclose()

    assert statuses == [200, 200, 200] and server.connections == 1
    head, body = server.requests[0].split(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"POST /callbacks/sandbox?x=1 HTTP/1.1"
    assert b"X-Sandbox-Signature: v1=abc" in head and b"Content-Length: 7" in head and body == b'{"n":0}'


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nbusy\r\n0\r\nA: b\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n",
])
async def test_chunked_bodies_bodiless_and_interim_answers_leave_the_connection_usable(
        serve: Serve, answer: bytes) -> None:
    server = Server(lambda number: answer if number == 1 else OK)
    url = await serve(server)
    client = CallbackClient(timeout_s=5)
    first, second = await client.post(url, b"{}", {}), await client.post(url, b"{}", {})
    await client.aclose()
    assert (first in (503, 204), second, server.connections) == (True, 200, 1)


async def test_an_answer_delimited_by_the_close_is_read_and_the_next_post_connects_again(serve: Serve) -> None:
    server = Server(lambda _: b"HTTP/1.0 200 OK\r\n\r\nthe body until the close", close_after=lambda _: True)
    url = await serve(server)
    client = CallbackClient(timeout_s=5)
    assert [await client.post(url, b"{}", {}) for _ in range(2)] == [200, 200]
    assert server.connections == 2
    await client.aclose()


async def test_a_kept_alive_connection_the_server_closed_is_replaced(serve: Serve) -> None:
    server = Server(lambda _: OK, close_after=lambda number: number == 1)  # closes after answering, without saying so
    url = await serve(server)
    client = CallbackClient(timeout_s=5)
    first = await client.post(url, b"{}", {})
    await asyncio.sleep(0.05)
    second = await client.post(url, b"{}", {})
    await client.aclose()
    assert (first, second, len(server.requests), server.connections) == (200, 200, 2, 2)


async def test_failures_raise_callback_errors_naming_what_happened(serve: Serve) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = CallbackClient(timeout_s=0.3)
    with pytest.raises(CallbackError, match="ConnectionRefusedError"):
        await client.post(f"http://127.0.0.1:{closed_port}/", b"{}", {})

    silent = await serve(Server(lambda _: b""))  # reads the request, never answers
    with pytest.raises(CallbackError, match="Timeout"):
        await client.post(silent, b"{}", {})

    garbage = await serve(Server(lambda _: b"SMTP ready\r\n\r\n"))
    with pytest.raises(CallbackError, match="Bad status line"):
        await client.post(garbage, b"{}", {})

    with pytest.raises(CallbackError, match="UnsupportedProtocol"):
        await client.post("ftp://127.0.0.1/", b"{}", {})
    with pytest.raises(CallbackError, match="header injection"):
        await client.post(garbage, b"{}", {"X-Evil": "a\r\nInjected: yes"})
    await client.aclose()

"""The provider clients' transport (app/adapters/asyncio_network.py) against real local
servers: HTTP/1.1 keep-alive, a connection the server closed while idle, TLS with
certificate verification, timeouts; and respx still mocks it."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import respx

from app.adapters.asyncio_network import AsyncioTransport
from tests.e2e.test_tls import self_signed

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> tuple[asyncio.Server, int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    return server, server.sockets[0].getsockname()[1]


def answering(close_after: int | None = None, delay_s: float = 0.0) -> tuple[Handler, list[int]]:
    """A handler answering each request `ok <n>`; `connections` counts the connections it took."""
    connections: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        served = 0
        try:
            while (head := await reader.readuntil(b"\r\n\r\n")):
                length = next((int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                               if line.startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                await asyncio.sleep(delay_s)
                served += 1
                body = f"ok {served}".encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
                if close_after is not None and served >= close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    return handler, connections


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=AsyncioTransport()) as client:
        yield client


async def test_requests_share_a_keep_alive_connection(client):
    handler, connections = answering()
    server, port = await serve(handler)
    async with server:
        answers = [(await client.post(f"http://127.0.0.1:{port}/v1/payments", json={"n": n})).text for n in range(3)]
        concurrent = await asyncio.gather(*(client.get(f"http://127.0.0.1:{port}/") for _ in range(4)))
    assert answers == ["ok 1", "ok 2", "ok 3"] and len(connections) <= 4
    assert all(response.status_code == 200 for response in concurrent)


async def test_a_connection_the_server_closed_while_idle_is_not_reused(client):
    handler, connections = answering(close_after=1)
    server, port = await serve(handler)
    async with server:
        first = await client.get(f"http://127.0.0.1:{port}/")
        await asyncio.sleep(0.1)  # the server's end of stream reaches the idle connection
        second = await client.get(f"http://127.0.0.1:{port}/")
    assert (first.text, second.text) == ("ok 1", "ok 1") and len(connections) == 2


async def test_tls_verifies_the_certificate(tmp_path):
    cert, key = self_signed(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    handler, _ = answering()
    server, port = await serve(handler, tls)
    async with server:
        async with httpx.AsyncClient(transport=AsyncioTransport(verify=cert)) as trusting:
            answers = [(await trusting.get(f"https://127.0.0.1:{port}/")).text for _ in range(2)]
        async with httpx.AsyncClient(transport=AsyncioTransport()) as default:  # the system's CAs only
            with pytest.raises(httpx.ConnectError):
                await default.get(f"https://127.0.0.1:{port}/")
    assert answers == ["ok 1", "ok 2"]


async def test_timeouts_and_refused_connections_raise_httpx_errors(client):
    handler, _ = answering(delay_s=1.0)
    server, port = await serve(handler)
    async with server:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"http://127.0.0.1:{port}/", timeout=0.2)
    with pytest.raises(httpx.ConnectError):
        await client.get(f"http://127.0.0.1:{port}/")  # nobody listens any more


async def test_respx_mocks_it(client):
    async with respx.mock(base_url="https://gateway.example") as router:
        router.post("/v1/payments").respond(201, json={"id": "pay_1"})
        response = await client.post("https://gateway.example/v1/payments", json={})
    assert response.status_code == 201 and response.json() == {"id": "pay_1"}

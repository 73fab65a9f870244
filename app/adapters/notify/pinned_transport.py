"""An httpx transport that connects only to addresses the target guard checked.

httpx would resolve the host again when it connects, and a DNS answer that changed in
between (rebinding) would reach an address nobody checked. Here the TCP connection goes
to the pinned, checked IPs, while the URL keeps the name: the Host header and the TLS SNI
(and certificate check) still use it. The pins are set per send (`pinned(...)`) in a
context variable; a connection attempt to a host with no pin fails closed."""

from __future__ import annotations

import contextvars
import typing
from collections.abc import Iterator
from contextlib import contextmanager

import httpcore
import httpx
from httpx._config import DEFAULT_LIMITS, create_ssl_context

from app.adapters.notify.non_public import normalise_host
from app.adapters.notify.target_guard import CheckedTarget

_PINS: contextvars.ContextVar[dict[tuple[str, int], tuple[str, ...]]] = contextvars.ContextVar("webhook_pins")


@contextmanager
def pinned(target: CheckedTarget) -> Iterator[None]:
    """Within the block, connections to target.host:port go to target.addresses only."""
    token = _PINS.set({**_PINS.get({}), (normalise_host(target.host), target.port): target.addresses})
    try:
        yield
    finally:
        _PINS.reset(token)


class PinnedNetworkBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: typing.Iterable[typing.Any] | None = None) -> httpcore.AsyncNetworkStream:
        addresses = _PINS.get({}).get((normalise_host(host), port))
        if not addresses:
            raise httpcore.ConnectError(f"no checked address for {host}:{port}; refusing to resolve it again")
        failure: Exception | None = None
        for address in addresses:  # in resolver order, as a plain connect would try them
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: typing.Iterable[typing.Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are sent over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (pooling, HTTP/1.1, TLS) on the pinned network backend. No
    proxy from the environment: a proxy would make its own connection, unpinned."""

    def __init__(self, network_backend: httpcore.AsyncNetworkBackend | None = None) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=create_ssl_context(trust_env=False),
            max_connections=DEFAULT_LIMITS.max_connections,
            max_keepalive_connections=DEFAULT_LIMITS.max_keepalive_connections,
            keepalive_expiry=DEFAULT_LIMITS.keepalive_expiry,
            network_backend=PinnedNetworkBackend(network_backend),
        )

"""Only the holder of the API key may use the gateway: a payment created by anyone else
could carry an attempt's id in its metadata and call back about it, signed by us.
`/health`, the OpenAPI schema and the 3-D Secure page (the shopper's browser, sent there
by the merchant's checkout, holds no key) stay open."""

from __future__ import annotations

import hmac

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from sandbox_gateway.errors import GatewayError

OPEN_PATHS = ("/health", "/schema", "/_sandbox/3ds/")


def api_key_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if connection.url.path.startswith(OPEN_PATHS):
        return
    scheme, _separator, given = connection.headers.get("authorization", "").partition(" ")
    expected = connection.app.state.gateway.settings.api_key
    if scheme.lower() != "bearer" or not expected or not hmac.compare_digest(given.strip().encode(),
                                                                              expected.encode()):
        raise GatewayError(401, "unauthorized", "a valid API key is required (Authorization: Bearer <key>)")

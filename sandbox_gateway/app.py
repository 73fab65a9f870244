"""Builds the sandbox gateway's Litestar app. One process holds all state in memory."""

from __future__ import annotations

import httpx
from litestar import Litestar
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig

from sandbox_gateway.auth import api_key_guard
from sandbox_gateway.errors import GatewayError, handle_gateway_error, handle_http_exception
from sandbox_gateway.routes import ROUTES
from sandbox_gateway.service import Gateway
from sandbox_gateway.settings import GatewaySettings
from sandbox_gateway.three_d_secure import THREE_D_SECURE_ROUTES


def create_app(settings: GatewaySettings | None = None, *,
               callback_transport: httpx.AsyncBaseTransport | None = None) -> Litestar:
    """`callback_transport` lets tests receive callbacks in process (httpx.MockTransport,
    ASGITransport) instead of over the network. The Gateway is at `app.state.gateway`."""
    gateway = Gateway(settings or GatewaySettings.from_env(), callback_transport)
    app = Litestar(
        route_handlers=[*ROUTES, *THREE_D_SECURE_ROUTES],
        guards=[api_key_guard],
        dependencies={"gateway": Provide(lambda: gateway, sync_to_thread=False)},
        exception_handlers={GatewayError: handle_gateway_error, HTTPException: handle_http_exception},
        on_shutdown=[gateway.shutdown],
        openapi_config=OpenAPIConfig(title="FusionXPay sandbox gateway", version="1.0.0"),
    )
    app.state.gateway = gateway
    return app

"""The one place the Litestar app is assembled."""

from __future__ import annotations

from contextlib import asynccontextmanager
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin

from app.bootstrap import Container
from app.entrypoints.http.auth import SECURITY_COMPONENTS
from app.entrypoints.http.controllers.callbacks import provider_callback
from app.entrypoints.http.controllers.health import health, ready
from app.entrypoints.http.controllers.legacy import LegacyController, legacy_callback
from app.entrypoints.http.controllers.orders import OrderController
from app.entrypoints.http.controllers.payments import PaymentController
from app.entrypoints.http.idempotency import idempotency_middleware
from app.entrypoints.http.problems import EXCEPTION_HANDLERS, problem_details_plugin
from app.entrypoints.http.request_log import request_log_middleware


def create_app(container: Container) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await container.start()
        try:
            yield
        finally:
            await container.stop()

    def service(name: str) -> Provide:
        return Provide(lambda: getattr(container, name), sync_to_thread=False, use_cache=True)

    app = Litestar(
        route_handlers=[OrderController, PaymentController, provider_callback, LegacyController, legacy_callback,
                        health, ready],
        dependencies={name: service(name) for name in ("orders", "merchants", "payments", "callbacks")},
        middleware=[request_log_middleware, idempotency_middleware],
        plugins=[problem_details_plugin],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        request_max_body_size=container.settings.api.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="FusionXPay API",
            version="0.1.0",
            description="One payment API in front of several providers. Amounts are integer minor units.",
            path="/schema",
            components=SECURITY_COMPONENTS,
            render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        ),
        debug=False,
    )
    app.state.container = container
    return app

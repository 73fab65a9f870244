"""The one place the Litestar app is assembled."""

from __future__ import annotations

from contextlib import asynccontextmanager
from collections.abc import AsyncIterator

from litestar import Litestar
from litestar.openapi import OpenAPIConfig

from app.bootstrap import Container
from app.entrypoints.http.access import SECURITY_COMPONENTS
from app.entrypoints.http.auth import Authenticator
from app.entrypoints.http.client_address import CallbackSources, ClientAddress
from app.entrypoints.http.controllers.accounts import AuthController, MeController, UsersController
from app.entrypoints.http.controllers.admin import AdminController
from app.entrypoints.http.controllers.admin_merchants import AdminMerchantsController
from app.entrypoints.http.controllers.admin_notifications import AdminNotificationsController
from app.entrypoints.http.controllers.admin_audit import AdminAuditController
from app.entrypoints.http.controllers.admin_reports import AdminReportsController
from app.entrypoints.http.controllers.admin_search import AdminSearchController
from app.entrypoints.http.controllers.cards import CardController
from app.entrypoints.http.controllers.events import EventController
from app.entrypoints.http.controllers.fraud_admin import FraudAdminController
from app.entrypoints.http.controllers.admin_refunds import AdminRefundsController, AdminVerdictMismatchesController
from app.entrypoints.http.controllers.callbacks import provider_callback
from app.entrypoints.http.controllers.health import health, ready
from app.entrypoints.http.controllers.legacy import LegacyController, legacy_callback
from app.entrypoints.http.controllers.notification_preferences import NotificationPreferencesController
from app.entrypoints.http.controllers.orders import OrderController
from app.entrypoints.http.controllers.payments import PaymentController
from app.entrypoints.http.controllers.products import ProductController
from app.entrypoints.http.dashboard import dashboard_handlers, template_config
from app.entrypoints.http.dependencies import from_app
from app.entrypoints.http.docs import docs_assets, problem_type, problem_types, render_plugins
from app.entrypoints.http.idempotency import idempotency_middleware
from app.entrypoints.http.lookup_audit import lookup_audit_middleware
from app.entrypoints.http.openapi_docs import document
from app.entrypoints.http.edge import edge_middleware
from app.entrypoints.http.metrics import MetricsController, metrics_port
from app.entrypoints.http.problems import EXCEPTION_HANDLERS, problem_details_plugin
from app.entrypoints.http.rate_limit import RateLimitPolicy
from app.entrypoints.http.request_guard import request_guard_middleware
from app.entrypoints.http.route_contracts import route_contracts
from app.entrypoints.http.route_entry import route_entry_middleware
from app.entrypoints.http.security_headers import cors_config
from app.entrypoints.http.tracing import tracing_plugins


def create_app(container: Container) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await container.start()
        try:
            with metrics_port(container.settings.api):
                yield
        finally:
            await container.stop()

    app = Litestar(
        route_handlers=[OrderController, PaymentController, ProductController, provider_callback, LegacyController,
                        legacy_callback, AdminController, AdminMerchantsController, FraudAdminController,
                        AdminRefundsController, AdminVerdictMismatchesController, AdminAuditController, AuthController,
                        MeController, UsersController, CardController, EventController, health, ready,
                        problem_types, problem_type, docs_assets(), MetricsController,
                        NotificationPreferencesController, AdminSearchController, AdminReportsController,
                        AdminNotificationsController,
                        *dashboard_handlers()],
        template_config=template_config(),
        dependencies={name: from_app(lambda: app, name) for name in ("orders", "merchants", "payments", "callbacks",
                                                              "catalog", "refunds", "accounts", "sessions", "vault",
                                                              "notification_preferences")},
        # No app-level guard: route_entry_middleware runs the same `authorize` check for
        # every route handler, before the body is read (a guard would run it again, and
        # Litestar copies the handler for each guard call on every request).
        # Errors raised by our middleware become responses at the app's exception handler,
        # inside the edge middleware, so its metrics and log line see the status the client got.
        middleware=[route_entry_middleware, lookup_audit_middleware, request_guard_middleware,
                    idempotency_middleware],
        plugins=[problem_details_plugin, *tracing_plugins(container.tracing)],
        cors_config=cors_config(container.settings.api.cors_origins),
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        request_max_body_size=container.settings.api.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="FusionXPay API",
            version="0.1.0",
            path="/schema",
            components=SECURITY_COMPONENTS,
            render_plugins=render_plugins(),
        ),
        debug=False,
    )
    app.state.container = container
    app.state.authenticator = Authenticator(container.merchants, container.access_tokens, container.sessions,
                                            container.settings.api.admin_api_key, container.key_revocations)
    app.state.client_address = ClientAddress(container.settings.api.trusted_proxies)
    app.state.callback_sources = CallbackSources(container.settings.api.callback_sources())
    app.state.rate_limit_policy = RateLimitPolicy(container.settings.rate_limit)
    app.state.route_contracts = route_contracts(app)
    # Outside the router: the request log, the headers and the metrics also cover unknown
    # paths (404), 405s and errors answered by the app-level exception handler.
    app.asgi_handler = edge_middleware(app.asgi_handler, container.settings.api.hsts_max_age_s)
    _forbid_unknown_fields_in_schema(app)
    document(app)
    _fix_automatic_options(app)
    _resolve_sync_dependencies_in_turn(app)
    return app


def _resolve_sync_dependencies_in_turn(app: Litestar) -> None:
    """Litestar resolves independent dependencies of a handler concurrently, in an anyio
    task group: a task per dependency on every request (`principal` + a service, the
    usual pair, cost more in task set-up than everything else Litestar does for them).
    Ours are plain synchronous functions that return at once: resolved one after another
    (same order constraints, batches of one), they cost a function call each."""
    from litestar.routes import HTTPRoute

    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for _, kwargs_model in route.route_handler_map.values():
            kwargs_model.dependency_batches = [
                single for batch in kwargs_model.dependency_batches
                for single in ([{dependency} for dependency in batch]
                               if all(_returns_at_once(dependency.provide) for dependency in batch) else [batch])]


def _returns_at_once(provide: object) -> bool:
    return bool(getattr(provide, "has_sync_callable", False)
                and not getattr(provide, "has_sync_generator_dependency", True)
                and not getattr(provide, "has_async_generator_dependency", True))


def _forbid_unknown_fields_in_schema(app: Litestar) -> None:
    """Request structs reject unknown fields (forbid_unknown_fields); say so in the
    OpenAPI document too (additionalProperties: false), which Litestar leaves out."""
    import msgspec

    from app.entrypoints.http.schemas import accounts, cards, fraud, merchants, notifications, orders, payments, products

    strict = {name for module in (orders, payments, products, fraud, accounts, cards, notifications, merchants)
              for name, value in vars(module).items()
              if isinstance(value, type) and issubclass(value, msgspec.Struct)
              and value.__struct_config__.forbid_unknown_fields}
    for name, schema in (app.openapi_schema.components.schemas or {}).items():
        if name in strict:
            schema.additional_properties = False


def _fix_automatic_options(app: Litestar) -> None:
    """Litestar 2.x builds a path's automatic OPTIONS answer when the path's first handler
    registers, so a path served by several handlers (GET+POST /orders) advertised only
    some of its methods in `Allow`. Point each automatic handler at its final route."""
    from litestar.routes import HTTPRoute

    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.handler_name == "options_handler":
                handler._fn = _options_answer(", ".join(sorted(route.methods)))


def _options_answer(allow: str):  # same signature as Litestar's own handler: (scope)
    from litestar import Response

    def options_handler(scope: object) -> Response[None]:
        return Response(None, status_code=204, headers={"Allow": allow})

    return options_handler

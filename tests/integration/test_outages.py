"""Outages answer 503 problem details (`service_unavailable`, Retry-After), never 500,
on every route, for each driver's "dependency down" exceptions; /ready names what is
down. The real-process versions (PostgreSQL stopped, Redis killed) are the crash tests."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import asyncpg.exceptions
import httpx
import msgspec
import pika.exceptions
import pytest
import redis.asyncio as redis_async
import redis.exceptions
from dramatiq.errors import ConnectionClosed

from tests.integration.test_orders_api import ORDER

ADMIN_KEY = "outage-admin-key"
CARD = {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}
SOME_ID = str(uuid.uuid4())

# (name, exception as the driver raises it, dependency the problem names)
OUTAGES = [
    ("postgres connection lost", asyncpg.exceptions.ConnectionDoesNotExistError(
        "connection was closed in the middle of operation"), "database"),
    ("postgres refusing", ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)"), "network"),
    ("postgres starting up", asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
     "database"),
    ("postgres admin shutdown", asyncpg.exceptions.AdminShutdownError(
        "terminating connection due to administrator command"), "database"),
    ("redis down", redis.exceptions.ConnectionError("Error 111 connecting to unix socket"), "redis"),
    ("broker down", ConnectionClosed(OSError("connection reset")), "broker"),
    ("rabbitmq refusing", pika.exceptions.AMQPConnectionError("refused"), "broker"),
]

# Every merchant-facing route, with a body it would accept.
ROUTES = [
    ("POST", "/orders", ORDER),
    ("GET", "/orders", None),
    ("GET", f"/orders/{SOME_ID}", None),
    ("PUT", f"/orders/{SOME_ID}", ORDER),
    ("POST", f"/orders/{SOME_ID}/cancel", None),
    ("POST", "/payments", {"order_id": SOME_ID, "provider": "sandbox", "payment_method": CARD}),
    ("POST", f"/payments/{SOME_ID}/retry", {"payment_method": CARD}),
    ("GET", f"/payments/{SOME_ID}", None),
    ("POST", "/order/create", ORDER),
    ("GET", f"/order/{SOME_ID}", None),
    ("POST", "/payment/request", {"order_id": SOME_ID, "provider": "sandbox", "payment_method": CARD}),
]
CALLBACK_ROUTES = [("POST", "/callbacks/sandbox", {}), ("POST", "/payment/callback", {})]


def down(service: object, exc: BaseException) -> object:
    """The same kind of use case (or store), every call of which fails the way its driver
    does in an outage (a subclass: Litestar checks dependency types)."""

    async def fail(*args, **kwargs):
        raise exc.with_traceback(None)

    kind = type(service)
    methods = {name: fail for name in dir(kind) if not name.startswith("_") and callable(getattr(kind, name))}
    return object.__new__(type(f"Down{kind.__name__}", (kind,), methods))


def app_with(container, **broken: BaseException):
    from app.entrypoints.http.app import create_app

    settings = msgspec.structs.replace(container.settings, api=msgspec.structs.replace(
        container.settings.api, admin_api_key=ADMIN_KEY))
    replaced = dataclasses.replace(container, settings=settings,
                                   **{name: down(getattr(container, name), exc) for name, exc in broken.items()})
    return create_app(replaced)


async def call(app, method: str, path: str, body, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://outage.test") as client:
        return await client.request(method, path, json=body, headers={
            **headers, "Idempotency-Key": uuid.uuid4().hex})


def assert_outage(response: httpx.Response, dependency: str, route: str) -> None:
    assert response.status_code == 503, f"{route}: {response.status_code} {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), route
    assert int(response.headers["retry-after"]) > 0, route
    problem = response.json()
    assert problem["code"] == "service_unavailable" and problem["status"] == 503, route
    assert problem["dependency"] == dependency, route


@pytest.mark.parametrize(("name", "exc", "dependency"), OUTAGES, ids=[o[0] for o in OUTAGES])
async def test_every_route_answers_503_when_authentication_cannot_reach_its_store(
        container, merchant, name, exc, dependency):
    app = app_with(container, merchants=exc)
    for method, path, body in ROUTES:
        assert_outage(await call(app, method, path, body, merchant.headers), dependency, f"{method} {path}")


@pytest.mark.parametrize(("name", "exc", "dependency"), OUTAGES, ids=[o[0] for o in OUTAGES])
async def test_every_route_answers_503_when_its_use_case_hits_an_outage(container, merchant, name, exc, dependency):
    app = app_with(container, orders=exc, payments=exc, callbacks=exc, idempotency=exc)
    for method, path, body in ROUTES + CALLBACK_ROUTES:
        assert_outage(await call(app, method, path, body, merchant.headers), dependency, f"{method} {path}")


async def test_admin_routes_answer_503_when_the_broker_is_down(container, tmp_path):
    """A real Redis broker on a socket nobody listens on, as the admin's dead letters see it."""
    from app.bootstrap import build_container
    from app.entrypoints.http.app import create_app

    dead = f"unix://{tmp_path}/no-redis.sock"
    settings = msgspec.structs.replace(
        container.settings, redis=msgspec.structs.replace(container.settings.redis, url=dead),
        api=msgspec.structs.replace(container.settings.api, admin_api_key=ADMIN_KEY),
        workers=msgspec.structs.replace(container.settings.workers, broker="redis"))
    broken = build_container(settings, engine=container.engine, providers=container.providers)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    try:
        for method, path in [("GET", "/admin/dead-letters"), ("POST", "/admin/dead-letters/replay"),
                             ("POST", f"/admin/dead-letters/{SOME_ID}/replay")]:
            assert_outage(await call(create_app(broken), method, path, None, admin), "redis", f"{method} {path}")
    finally:
        await broken.redis.aclose()


async def test_real_redis_outage_on_payments_is_503(client, container, merchant, tmp_path):
    """A real redis-py client on a socket nobody listens on: the payment path's lock and
    card cache fail as they do when Redis dies."""
    from app.bootstrap import build_container
    from app.entrypoints.http.app import create_app

    created = (await client.post("/orders", json=ORDER, headers={**merchant.headers,
                                                                  "Idempotency-Key": uuid.uuid4().hex})).json()
    settings = msgspec.structs.replace(container.settings, redis=msgspec.structs.replace(
        container.settings.redis, url=f"unix://{tmp_path}/no-redis.sock"))
    broken = build_container(settings, engine=container.engine, providers=container.providers)
    try:
        response = await call(create_app(broken), "POST", "/payments", {
            "order_id": created["id"], "provider": "sandbox", "payment_method": CARD}, merchant.headers)
        assert_outage(response, "redis", "POST /payments")
        order = (await client.get(f"/orders/{created['id']}", headers=merchant.headers)).json()
        assert order["status"] == "CREATED" and order["payments"] == []  # nothing half-done
    finally:
        await broken.redis.aclose()


async def test_ready_names_the_dependency_that_is_down(container, tmp_path):
    from app.entrypoints.http.app import create_app

    dead_redis = redis_async.Redis.from_url(f"unix://{tmp_path}/no-redis.sock")
    app = create_app(dataclasses.replace(container, redis=dead_redis))
    try:
        response = await call(app, "GET", "/ready", None, {})
    finally:
        await dead_redis.aclose()
    assert response.status_code == 503 and int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["status"] == "unavailable" and body["down"] == ["redis"]
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"] == {**body["checks"]["redis"], "status": "down", "required": True,
                                       "error": "ConnectionError"}


async def test_ready_reports_an_unreachable_rabbitmq_without_failing(container):
    from app.entrypoints.http.app import create_app
    from tests.processes import free_port

    settings = msgspec.structs.replace(container.settings, workers=msgspec.structs.replace(
        container.settings.workers, broker="rabbitmq", rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/"))
    response = await call(create_app(dataclasses.replace(container, settings=settings)),
                          "GET", "/ready", None, {})
    body = response.json()
    assert response.status_code == 200 and body["status"] == "degraded" and body["down"] == ["broker"]
    assert body["checks"]["broker"]["required"] is False and body["checks"]["broker"]["status"] == "down"


async def test_an_answer_that_cannot_be_committed_is_a_503_problem(container, merchant):
    """The database goes away between the handler's answer and the commit that stores it
    with the Idempotency-Key (claim first: cancelling an order): Litestar already holds
    the response as started, the middleware answers the outage itself (a bare-text 500
    before)."""
    kind = type(container.idempotency)

    class StoreFailsAtCommit(kind):  # type: ignore[misc, valid-type]
        async def store(self, *args, **kwargs):
            raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    order = (await call(app_with(container), "POST", "/orders", ORDER, merchant.headers)).json()
    failing = object.__new__(StoreFailsAtCommit)
    failing.__dict__.update(container.idempotency.__dict__)
    app = app_with(container)
    app.state.container = dataclasses.replace(app.state.container, idempotency=failing)
    response = await call(app, "POST", f"/orders/{order['id']}/cancel", None, merchant.headers)
    assert_outage(response, "database", "POST /orders/{id}/cancel at commit")
    fetched = await call(app_with(container), "GET", f"/orders/{order['id']}", None, merchant.headers)
    assert fetched.json()["status"] == "CREATED"  # nothing was committed


async def test_a_one_statement_commit_whose_connection_dies_is_a_503_and_writes_nothing(container, merchant,
                                                                                      settings):
    """POST /orders claims its key in its one commit statement: PostgreSQL ends the
    request's connection (as a restart would) right before that statement is sent."""
    from app.adapters.db import hot_path
    from app.adapters.db.unit_of_work import PiccoloUnitOfWork, PiccoloUnitOfWorkFactory

    class ConnectionEndsAtCommit(PiccoloUnitOfWork):
        async def commit(self) -> None:
            # The unit takes its connection when a statement first needs it: take it now,
            # so that the commit's statement goes on the connection PostgreSQL ends.
            await hot_path.connection(container.engine).fetchval("SELECT 1")
            pid = hot_path.connection(container.engine).get_server_pid()
            killer = await asyncpg.connect(settings.database.url)
            try:
                await killer.execute("SELECT pg_terminate_backend($1)", pid)
                while await killer.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
                    await asyncio.sleep(0.01)
            finally:
                await killer.close()
            await super().commit()

    class Units(PiccoloUnitOfWorkFactory):
        def single_statement(self) -> PiccoloUnitOfWork:
            return ConnectionEndsAtCommit(self.engine, self.bus, self.trail, self.audit, self.secrets,
                                          single_statement=True)

    uow = container.uow
    app = app_with(container)
    app.state.container = dataclasses.replace(app.state.container, uow=Units(
        uow.engine, uow.bus, uow.trail, uow.audit, uow.secrets))
    body = {**ORDER, "merchant_reference": "dies-at-commit"}
    headers = {**merchant.headers, "Idempotency-Key": "dies-at-commit"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://outage.test") as client:
        response = await client.post("/orders", json=body, headers=headers)
    assert_outage(response, "database", "POST /orders at its one-statement commit")
    async with container.engine.transaction() as tx:
        written = await tx.connection.fetchrow(
            "SELECT (SELECT count(*) FROM orders WHERE merchant_id = $1) AS orders, "
            "(SELECT count(*) FROM outbox WHERE merchant_id = $1) AS outbox, "
            "(SELECT count(*) FROM idempotency_keys WHERE merchant_id = $1) AS keys", uuid.UUID(merchant.id))
    assert dict(written) == {"orders": 0, "outbox": 0, "keys": 0}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_with(container)),
                                 base_url="http://outage.test") as client:
        retried = await client.post("/orders", json=body, headers=headers)
    assert retried.status_code == 201, retried.text  # the key and the reference are still free

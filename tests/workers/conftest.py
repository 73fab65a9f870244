"""Worker test fixtures. A StubBroker whose async actors run on the test's own event
loop (SharedLoopAsyncIO), against a Container built on that broker that shares the
session container's connection pool; a Worker per test; flush_all after each (STYLE);
helpers for outbox rows and joins."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import dramatiq
import httpx
import msgspec
import pytest
from dramatiq import Worker

ADMIN_KEY = "admin-test-key"
WORKER_SETTINGS = {
    "broker": "stub", "max_retries": 2, "min_backoff_ms": 20, "max_backoff_ms": 100,
    "webhook_retry_schedule": "0.1,0.2", "webhook_allowlist": "127.0.0.0/8", "webhook_timeout_s": 2.0,
    "relay_batch_size": 50,
}
PINGS: list[tuple[str, str | None]] = []  # (event id, correlation id) per test_ping run
_pings_lock = threading.Lock()


def record_ping(event_id: str) -> None:
    import structlog

    with _pings_lock:
        PINGS.append((event_id, structlog.contextvars.get_contextvars().get("correlation_id")))


@pytest.fixture(scope="session")
def worker_settings(settings):
    workers = msgspec.structs.replace(settings.workers, **WORKER_SETTINGS)
    return msgspec.structs.replace(settings, workers=workers,
                                   api=msgspec.structs.replace(settings.api, admin_api_key=ADMIN_KEY),
                                   payments=msgspec.structs.replace(settings.payments, dispatch="outbox"))


@pytest.fixture
async def stub_broker(worker_settings):
    """A fresh broker per test: each Worker leaves its own middleware on the broker."""
    from app.workers.broker import build_broker

    broker = build_broker(worker_settings, loop=asyncio.get_running_loop())
    dramatiq.actor(record_ping, broker=broker, actor_name="test_ping", queue_name="test", max_retries=0)
    PINGS.clear()
    yield broker
    broker.flush_all()


async def worker_container_on(broker, settings, session_container):
    """A Container for the workers on `broker`, sharing the session's pool, Redis and
    providers, set as the one the broker's actors use."""
    from app.bootstrap import build_container
    from app.workers.broker import container_boot

    built = build_container(settings, broker=broker, engine=session_container.engine,
                            redis=session_container.redis, providers=session_container.providers)
    container_boot(broker).use(built)
    return built


@pytest.fixture
async def services(container, worker_settings, stub_broker):
    """The Container the actors (and the admin endpoints) see in this test; swap in
    stand-ins with `use_services`."""
    built = await worker_container_on(stub_broker, worker_settings, container)
    yield built
    await built.sender.aclose()


@pytest.fixture
def worker_container(services):
    return services


@pytest.fixture
async def worker(stub_broker, services) -> AsyncIterator[Worker]:
    worker = Worker(stub_broker, worker_timeout=50, worker_threads=4)
    worker.start()
    yield worker
    # Worker threads wait on this loop: stop them from another thread.
    await asyncio.to_thread(worker.stop)


@pytest.fixture
async def quiet_outbox(container) -> None:
    """Mark what other tests left unpublished (their events ran in-process) as published,
    so the relay under test sees only this test's rows."""
    async with container.engine.transaction() as transaction:
        await transaction.connection.execute("UPDATE outbox SET published_at = now() WHERE published_at IS NULL")


@pytest.fixture
async def admin(worker_container, services) -> AsyncIterator[httpx.AsyncClient]:
    from litestar import Litestar

    from app.entrypoints.http.access import authorize
    from app.entrypoints.http.auth import Authenticator
    from app.entrypoints.http.controllers.admin import AdminController
    from app.entrypoints.http.problems import EXCEPTION_HANDLERS, problem_details_plugin

    app = Litestar(route_handlers=[AdminController], plugins=[problem_details_plugin],
                   exception_handlers=EXCEPTION_HANDLERS, guards=[authorize])
    app.state.container = worker_container
    app.state.authenticator = Authenticator(worker_container.merchants, worker_container.access_tokens,
                                            worker_container.sessions, worker_container.settings.api.admin_api_key,
                                            worker_container.key_revocations)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin.test",
                                 headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        yield client


def use_services(services, **changes):
    """Point the actors at stand-ins (e.g. payments=... a fake use case)."""
    from app.workers.broker import container_boot

    replaced = dataclasses.replace(services, **changes)
    container_boot(services.broker).use(replaced)
    return replaced


async def join(broker, queue: str, timeout_ms: int = 15_000) -> None:
    await asyncio.to_thread(broker.join, queue, timeout=timeout_ms, fail_fast=False)


async def add_event(event_type: str, merchant_id: uuid.UUID | str | None = None, payload: dict | None = None,
                    correlation_id: str | None = None) -> uuid.UUID:
    from app.adapters.db.tables import OutboxTable

    event_id = uuid.uuid4()
    await OutboxTable.insert(OutboxTable(
        id=event_id, event_type=event_type, aggregate_id=uuid.uuid4(),
        merchant_id=uuid.UUID(str(merchant_id)) if merchant_id else uuid.uuid4(), payload=payload or {},
        correlation_id=correlation_id, occurred_at=datetime.now(UTC), published_at=None,
    )).run()
    return event_id


async def published_at(event_ids: list[uuid.UUID]) -> dict[uuid.UUID, datetime | None]:
    from app.adapters.db.tables import OutboxTable

    rows = await OutboxTable.select(OutboxTable.id, OutboxTable.published_at).where(
        OutboxTable.id.is_in(event_ids)).run()
    return {row["id"]: row["published_at"] for row in rows}


async def webhook_merchant(container, url: str):
    """A merchant whose webhook secret is standard base64 after "whsec_" (what Standard
    Webhooks specifies; MerchantService's token_urlsafe secrets are not always), and whose
    webhook URL is the test receiver's on loopback: written directly, as the session
    container's input check refuses loopback (only the workers' settings allowlist it)."""
    import base64
    import secrets

    from app.adapters.db.tables import MerchantTable

    created = await container.merchants.create("Webhook shop")
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    await MerchantTable.update({MerchantTable.webhook_secret: secret, MerchantTable.webhook_url: url}).where(
        MerchantTable.id == created.merchant.id).run()
    return dataclasses.replace(created, webhook_secret=secret,
                               merchant=dataclasses.replace(created.merchant, webhook_url=url))


@pytest.fixture(scope="session", autouse=True)
def _servers(test_servers):
    """Every test here runs with the session's PostgreSQL and Redis up (tests/conftest.py)."""
    return test_servers


@pytest.fixture
async def receiver():
    """A local HTTP endpoint recording the webhooks it gets."""
    from tests.workers.receiver import WebhookReceiver

    async with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
async def shop(container, receiver):
    """A merchant whose webhooks go to `receiver`."""
    return await webhook_merchant(container, receiver.url)

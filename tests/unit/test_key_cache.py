"""The API's in-process cache of merchant keys: a revocation anywhere (another process)
is seen on the next request, a rotated key is not served from the cache past its grace,
and without a readable version (Redis down) nothing is cached."""

from __future__ import annotations

import asyncio

import pytest

from app.domain.errors import Unauthenticated
from app.entrypoints.http.auth import Authenticator
from tests.unit.fake_accounts import InMemoryKeyRevocations
from tests.unit.fake_container import fake_container
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory


class UnreadableRevocations(InMemoryKeyRevocations):
    async def version(self) -> str:
        raise ConnectionError("Redis is down")


def api_process(container, revocations) -> Authenticator:
    return Authenticator(container.merchants, container.access_tokens, container.sessions, "", revocations)


@pytest.fixture
def shared():
    """One database and one Redis version, seen by two "processes" (containers)."""
    return InMemoryUnitOfWorkFactory(), InMemoryKeyRevocations(), FakeClock()


async def test_a_deactivation_elsewhere_is_seen_on_the_next_request(shared):
    uow, revocations, clock = shared
    admin = fake_container(uow=uow, key_revocations=revocations, clock=clock)
    api = api_process(fake_container(uow=uow, key_revocations=revocations, clock=clock), revocations)
    created = await admin.merchants.create("Shop")
    bearer = f"Bearer {created.api_key}"
    assert (await api.authenticate(bearer)).merchant_id == created.merchant.id  # now cached
    await admin.merchants.deactivate(created.merchant.id)
    with pytest.raises(Unauthenticated):
        await api.authenticate(bearer)


async def test_the_cache_does_not_outlive_a_rotated_keys_grace(shared):
    uow, revocations, clock = shared
    admin = fake_container(uow=uow, key_revocations=revocations, clock=clock)
    api = api_process(fake_container(uow=uow, key_revocations=revocations, clock=clock), revocations)
    created = await admin.merchants.create("Shop")
    await admin.merchants.rotate_api_key(created.merchant.id, grace_s=0)
    with pytest.raises(Unauthenticated):
        await api.authenticate(f"Bearer {created.api_key}")


async def test_without_a_readable_version_every_request_asks_the_database(shared):
    uow, revocations, clock = shared
    admin = fake_container(uow=uow, key_revocations=revocations, clock=clock)
    api = api_process(fake_container(uow=uow, key_revocations=revocations, clock=clock), UnreadableRevocations())
    created = await admin.merchants.create("Shop")
    bearer = f"Bearer {created.api_key}"
    assert (await api.authenticate(bearer)).merchant_id == created.merchant.id  # still served
    await admin.merchants.deactivate(created.merchant.id)
    with pytest.raises(Unauthenticated):  # nothing was cached
        await api.authenticate(bearer)


class LateFirstAnswer:
    """The merchants' key lookup, whose first answer (read before anything changed) is
    delivered only when the test says so."""

    def __init__(self, merchants) -> None:
        self._merchants, self.release, self.calls = merchants, asyncio.Event(), 0

    async def authenticate(self, api_key: str):
        self.calls += 1
        key = await self._merchants.authenticate(api_key)
        if self.calls == 1:
            await self.release.wait()
        return key


async def test_a_lookup_that_predates_a_revocation_seen_meanwhile_is_not_cached(shared):
    uow, revocations, clock = shared
    admin = fake_container(uow=uow, key_revocations=revocations, clock=clock)
    api_container = fake_container(uow=uow, key_revocations=revocations, clock=clock)
    merchants = LateFirstAnswer(api_container.merchants)
    api = Authenticator(merchants, api_container.access_tokens, api_container.sessions, "", revocations)
    created = await admin.merchants.create("Shop")
    bearer = f"Bearer {created.api_key}"
    first = asyncio.ensure_future(api.authenticate(bearer))  # looked up while the key was live
    while merchants.calls == 0:
        await asyncio.sleep(0)
    await admin.merchants.deactivate(created.merchant.id)
    with pytest.raises(Unauthenticated):  # a request that saw the new version
        await api.authenticate(bearer)
    merchants.release.set()
    assert (await first).merchant_id == created.merchant.id  # it was live when it asked
    with pytest.raises(Unauthenticated):  # but its answer was not kept under the new version
        await api.authenticate(bearer)

"""Merchant management use cases: update, API key rotation with a grace period, webhook
secret rotation with an overlap, re-enabling a disabled endpoint, deactivation; each
idempotent where the issue asks, concurrent duplicates having exactly one effect."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.domain.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from tests.unit.fake_accounts import InMemoryKeyRevocations
from tests.unit.fake_container import fake_container
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory

DAY = 86_400


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def uow() -> InMemoryUnitOfWorkFactory:
    return InMemoryUnitOfWorkFactory()


@pytest.fixture
def revocations() -> InMemoryKeyRevocations:
    return InMemoryKeyRevocations()


@pytest.fixture
def merchants(uow, clock, revocations):
    return fake_container(uow=uow, clock=clock, key_revocations=revocations).merchants


async def test_update_changes_name_and_webhook_url_only(merchants, uow):
    created = await merchants.create("Shop", "https://shop.example/hooks")
    updated = await merchants.update(created.merchant.id, name="  New name ")
    assert updated.name == "New name" and updated.webhook_url == "https://shop.example/hooks"
    updated = await merchants.update(created.merchant.id, webhook_url="https://shop.example/v2/hooks")
    assert uow.db.merchants[created.merchant.id].webhook_url == "https://shop.example/v2/hooks"
    assert uow.db.merchants[created.merchant.id].name == "New name"


@pytest.mark.parametrize(("changes", "code"), [
    ({"webhook_url": "ftp://shop.example/hooks"}, "invalid_webhook_url"),
    ({"webhook_url": "https://user:pw@shop.example/hooks"}, "invalid_webhook_url"),
    ({"name": "   "}, "business_rule_violated"),
])
async def test_update_refuses_bad_input(merchants, changes, code):
    created = await merchants.create("Shop")
    with pytest.raises(ValidationFailed) as refused:
        await merchants.update(created.merchant.id, **changes)
    assert refused.value.code == code


async def test_unknown_merchant_is_not_found(merchants):
    for call in (merchants.get, merchants.rotate_api_key, merchants.deactivate, merchants.enable_webhooks):
        with pytest.raises(NotFound):
            await call(uuid.uuid4())


async def test_rotated_key_works_through_its_grace_period_then_not(merchants, clock, revocations):
    created = await merchants.create("Shop")
    rotation = await merchants.rotate_api_key(created.merchant.id, grace_s=3600)
    assert rotation.secret and rotation.secret != created.api_key and not rotation.replayed
    old = await merchants.authenticate(created.api_key)
    assert old.merchant.id == created.merchant.id and old.expires_at == rotation.previous_expires_at
    assert (await merchants.authenticate(rotation.secret)).expires_at is None
    assert revocations.changes == 1  # the API processes' caches are told
    clock.advance(3599)
    await merchants.authenticate(created.api_key)
    clock.advance(1)
    with pytest.raises(Unauthenticated):
        await merchants.authenticate(created.api_key)
    await merchants.authenticate(rotation.secret)


async def test_default_grace_period_is_a_day(merchants, clock):
    created = await merchants.create("Shop")
    rotation = await merchants.rotate_api_key(created.merchant.id)
    assert (rotation.previous_expires_at - clock.now()).total_seconds() == DAY


async def test_a_second_rotation_shortens_no_grace_and_extends_none(merchants, clock):
    created = await merchants.create("Shop")
    first = await merchants.rotate_api_key(created.merchant.id, grace_s=3600)
    clock.advance(60)
    second = await merchants.rotate_api_key(created.merchant.id, grace_s=7200)
    for key in (created.api_key, first.secret, second.secret):
        await merchants.authenticate(key)
    clock.advance(3600)
    with pytest.raises(Unauthenticated):  # the original key's grace was not extended
        await merchants.authenticate(created.api_key)
    await merchants.authenticate(first.secret)


async def test_grace_period_out_of_range_is_refused(merchants):
    created = await merchants.create("Shop")
    for grace in (-1, 31 * DAY):
        with pytest.raises(ValidationFailed):
            await merchants.rotate_api_key(created.merchant.id, grace_s=grace)


async def test_concurrent_duplicate_rotations_rotate_once(merchants, uow):
    created = await merchants.create("Shop")
    rotations = await asyncio.gather(*(merchants.rotate_api_key(created.merchant.id, "rotate-1")
                                       for _ in range(10)))
    fresh = [r for r in rotations if not r.replayed]
    assert len(fresh) == 1 and fresh[0].secret
    assert all(r.secret is None for r in rotations if r.replayed)
    assert len(uow.db.merchants[created.merchant.id].api_keys) == 2  # the first key and one new one
    again = await merchants.rotate_api_key(created.merchant.id, "rotate-1")
    assert again.replayed and len(uow.db.merchants[created.merchant.id].api_keys) == 2
    other = await merchants.rotate_api_key(created.merchant.id, "rotate-2")
    assert not other.replayed and len(uow.db.merchants[created.merchant.id].api_keys) == 3


async def test_webhook_secret_rotation_signs_with_both_until_the_overlap_ends(merchants, uow, clock):
    created = await merchants.create("Shop", "https://shop.example/hooks")
    rotation = await merchants.rotate_webhook_secret(created.merchant.id, overlap_s=600)
    stored = uow.db.merchants[created.merchant.id]
    assert stored.signing_secrets(clock.now()) == [rotation.secret, created.webhook_secret]
    clock.advance(600)
    assert stored.signing_secrets(clock.now()) == [rotation.secret]


async def test_concurrent_duplicate_secret_rotations_rotate_once(merchants, uow, clock):
    created = await merchants.create("Shop", "https://shop.example/hooks")
    rotations = await asyncio.gather(*(merchants.rotate_webhook_secret(created.merchant.id, "r1")
                                       for _ in range(10)))
    [fresh] = [r for r in rotations if not r.replayed]
    stored = uow.db.merchants[created.merchant.id]
    assert stored.signing_secrets(clock.now()) == [fresh.secret, created.webhook_secret]


async def test_enabling_a_disabled_endpoint_happens_once(merchants, uow):
    created = await merchants.create("Shop", "https://shop.example/hooks")
    uow.db.merchants[created.merchant.id].webhook_enabled = False  # as a 410 Gone leaves it
    changes = await asyncio.gather(*(merchants.enable_webhooks(created.merchant.id) for _ in range(10)))
    assert [c.changed for c in changes].count(True) == 1
    assert uow.db.merchants[created.merchant.id].webhook_enabled
    assert not (await merchants.enable_webhooks(created.merchant.id)).changed


async def test_enabling_without_a_webhook_url_is_a_conflict(merchants, uow):
    created = await merchants.create("Shop")
    uow.db.merchants[created.merchant.id].webhook_enabled = False
    with pytest.raises(Conflict) as refused:
        await merchants.enable_webhooks(created.merchant.id)
    assert refused.value.code == "no_webhook_url"


async def test_deactivation_stops_every_key_keeps_the_data_and_is_idempotent(merchants, uow, revocations):
    created = await merchants.create("Shop")
    rotation = await merchants.rotate_api_key(created.merchant.id)
    changes = await asyncio.gather(*(merchants.deactivate(created.merchant.id) for _ in range(5)))
    assert [c.changed for c in changes].count(True) == 1
    for key in (created.api_key, rotation.secret):
        with pytest.raises(Unauthenticated):
            await merchants.authenticate(key)
    assert created.merchant.id in uow.db.merchants and not uow.db.merchants[created.merchant.id].active
    assert (await merchants.get(created.merchant.id)).name == "Shop"
    with pytest.raises(Conflict) as refused:
        await merchants.rotate_api_key(created.merchant.id)
    assert refused.value.code == "merchant_deactivated"
    assert revocations.changes == 2  # the rotation, then the one deactivation


async def test_list_is_newest_first_with_a_cursor(merchants, clock):
    made = []
    for n in range(5):
        made.append((await merchants.create(f"Shop {n}")).merchant.id)
        clock.advance(1)
    first = await merchants.list(2)
    assert [m.id for m in first] == made[::-1][:2]
    rest = await merchants.list(10, (first[-1].created_at, first[-1].id))
    assert [m.id for m in rest] == made[::-1][2:]

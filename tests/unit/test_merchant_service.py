"""MerchantService: secret keys shown once and stored only as their SHA-256."""

from __future__ import annotations

import hashlib

import pytest

from app.domain.errors import Unauthenticated, ValidationFailed
from app.domain.services.merchants import MerchantService
from tests.unit.fake_container import fake_container, unit_settings
from tests.unit.fakes import InMemoryUnitOfWorkFactory


@pytest.fixture
def uow() -> InMemoryUnitOfWorkFactory:
    return InMemoryUnitOfWorkFactory()


@pytest.fixture
def merchants(uow) -> MerchantService:
    return fake_container(uow=uow).merchants


async def test_create_stores_the_key_hash_never_the_key(merchants, uow):
    created = await merchants.create("  Test shop  ", "https://merchant.example/webhooks")
    stored = uow.db.merchants[created.merchant.id]
    assert created.api_key.startswith("sk_test_") and len(created.api_key) > 40
    assert stored.api_key_hash == hashlib.sha256(created.api_key.encode()).hexdigest()
    assert created.api_key not in repr(stored)
    assert stored.name == "Test shop" and stored.webhook_url == "https://merchant.example/webhooks"
    assert stored.webhook_secret == created.webhook_secret and created.webhook_secret.startswith("whsec_")
    assert uow.commits == 1


async def test_every_merchant_gets_its_own_secrets(merchants):
    first, second = await merchants.create("One"), await merchants.create("Two")
    assert first.api_key != second.api_key and first.webhook_secret != second.webhook_secret


async def test_live_mode_keys_say_so(uow):
    created = await fake_container(unit_settings(env="prod"), uow=uow).merchants.create("Shop")
    assert created.api_key.startswith("sk_live_")


@pytest.mark.parametrize(("name", "webhook_url", "field"), [
    ("   ", None, "name"),
    ("x" * 201, None, "name"),
    ("Shop", "ftp://merchant.example", "webhook_url"),
    ("Shop", "https://user:pass@merchant.example/hooks", "webhook_url"),
    ("Shop", "https://token@merchant.example/hooks", "webhook_url"),
    ("Shop", "https://merchant.example:99999/hooks", "webhook_url"),
    ("Shop", "https://merchant.example/a b", "webhook_url"),
    ("Shop", "https:///no-host", "webhook_url"),
])
async def test_invalid_merchant_commits_nothing(merchants, uow, name, webhook_url, field):
    with pytest.raises(ValidationFailed) as raised:
        await merchants.create(name, webhook_url)
    assert raised.value.details["field"] == field
    assert uow.db.merchants == {} and uow.commits == 0


async def test_authenticate_with_the_key_finds_the_merchant(merchants):
    created = await merchants.create("Shop")
    assert (await merchants.authenticate(created.api_key)).merchant.id == created.merchant.id


@pytest.mark.parametrize("mangle", [
    lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),
    lambda key: key.removeprefix("sk_"),
    lambda key: hashlib.sha256(key.encode()).hexdigest(),  # the stored hash is not a key
    lambda key: "",
])
async def test_authenticate_with_a_wrong_key_is_refused(merchants, mangle):
    created = await merchants.create("Shop")
    with pytest.raises(Unauthenticated):
        await merchants.authenticate(mangle(created.api_key))


async def test_a_webhook_target_the_policy_refuses_is_refused_on_input(uow):
    from tests.unit.fakes import FakeWebhookTargetPolicy

    merchants = fake_container(uow=uow, webhook_targets=FakeWebhookTargetPolicy("http://10.1.2.3/hooks")).merchants
    with pytest.raises(ValidationFailed) as raised:
        await merchants.create("Shop", "http://10.1.2.3/hooks")
    assert raised.value.code == "webhook_target_refused" and raised.value.details["field"] == "webhook_url"
    assert uow.db.merchants == {} and uow.commits == 0
    assert (await merchants.create("Shop", "https://merchant.example/hooks")).merchant.webhook_url

"""Every fake offers every member of its port, with the port's parameter names, so a
use case written against app/domain/ports.py runs on the fakes unchanged."""

from __future__ import annotations

import inspect

import pytest

from app.domain import ports, ports_accounts, ports_vault
from tests.unit import fake_accounts, fake_catalog, fake_fraud, fake_providers, fakes

PORT_FAKES = [
    (ports.Clock, fakes.FakeClock),
    (ports.OrderRepository, fakes.InMemoryOrderRepository),
    (ports.PaymentRepository, fakes.InMemoryPaymentRepository),
    (ports.RefundRepository, fakes.InMemoryRefundRepository),
    (ports.MerchantRepository, fakes.InMemoryMerchantRepository),
    (ports.CallbackInbox, fakes.InMemoryCallbackInbox),
    (ports.ProductRepository, fake_catalog.InMemoryProductRepository),
    (ports.ReservationRepository, fake_catalog.InMemoryReservationRepository),
    (ports.ProcessedEvents, fake_catalog.InMemoryProcessedEvents),
    (ports.MismatchRepository, fakes.InMemoryMismatchRepository),
    (ports.VerdictAlarm, fake_providers.RecordingVerdictAlarm),
    (ports.UnitOfWork, fakes.InMemoryUnitOfWork),
    (ports.UnitOfWorkFactory, fakes.InMemoryUnitOfWorkFactory),
    (ports.EventBus, fakes.InMemoryEventBus),
    (ports.LockManager, fakes.InMemoryLockManager),
    (ports.CardDataCache, fake_providers.InMemoryCardDataCache),
    (ports.PaymentProvider, fake_providers.FakeProvider),
    (ports.ProviderRegistry, fake_providers.FakeProviderRegistry),
    (ports.FraudRuleStore, fake_fraud.InMemoryFraudRuleStore),
    (ports.VelocityCounter, fake_fraud.InMemoryVelocityCounter),
    (ports.CardFingerprints, fake_fraud.FakeCardFingerprints),
    (ports.FraudDecisionMetrics, fake_fraud.RecordingFraudMetrics),
    (ports.WebhookTargetPolicy, fakes.FakeWebhookTargetPolicy),
    (ports_accounts.UserRepository, fake_accounts.InMemoryUserRepository),
    (ports_accounts.RefreshTokenRepository, fake_accounts.InMemoryRefreshTokenRepository),
    (ports_accounts.PasswordHasher, fake_accounts.FakePasswordHasher),
    (ports_accounts.AccessTokenIssuer, fake_accounts.FakeAccessTokens),
    (ports_accounts.SessionRevocations, fake_accounts.InMemorySessionRevocations),
    (ports.KeyRevocations, fake_accounts.InMemoryKeyRevocations),
    (ports_accounts.LoginThrottle, fake_accounts.InMemoryLoginThrottle),
    (ports_vault.SavedCardRepository, fake_accounts.InMemorySavedCardRepository),
    (ports_vault.CardSealer, fake_accounts.FakeCardSealer),
    (ports_vault.CvcCache, fake_accounts.InMemoryCvcCache),
]
PORT_MODULES = (ports, ports_accounts, ports_vault)
DUNDERS = {"__aenter__", "__aexit__", "__call__"}


def methods(port: type) -> list[str]:
    return [name for name, member in vars(port).items()
            if callable(member) and (not name.startswith("_") or name in DUNDERS)]


def declared_ports() -> set[type]:
    return {cls for module in PORT_MODULES for _, cls in inspect.getmembers(module, inspect.isclass)
            if getattr(cls, "_is_protocol", False) and cls.__module__ == module.__name__}


def assert_offers_the_ports_methods(port: type, implementation: type) -> None:
    """Every method of `port`, with its parameter names, sync or async as the port says."""
    for name in methods(port):
        expected = list(inspect.signature(getattr(port, name)).parameters)
        assert list(inspect.signature(getattr(implementation, name)).parameters) == expected, name
        assert (inspect.iscoroutinefunction(getattr(implementation, name))
                == inspect.iscoroutinefunction(getattr(port, name))), name


def test_every_port_has_a_fake():
    assert declared_ports() == {port for port, _ in PORT_FAKES}


@pytest.mark.parametrize(("port", "fake"), PORT_FAKES, ids=[port.__name__ for port, _ in PORT_FAKES])
def test_fake_has_the_ports_methods_and_parameters(port, fake):
    assert_offers_the_ports_methods(port, fake)


@pytest.mark.parametrize("attribute", ["orders", "payments", "refunds", "merchants", "callbacks", "mismatches",
                                       "users", "refresh_tokens", "cards"])
async def test_unit_of_work_has_the_ports_repositories(attribute):
    assert isinstance(vars(ports.UnitOfWork)[attribute], property)  # read-only, so adapters' own types fit
    async with fakes.InMemoryUnitOfWorkFactory()() as unit:
        assert getattr(unit, attribute) is not None


def test_provider_has_a_name():
    assert "name" in ports.PaymentProvider.__annotations__ and fake_providers.FakeProvider("stripe").name == "stripe"

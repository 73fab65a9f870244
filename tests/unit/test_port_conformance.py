"""Real adapters and fakes against the domain's ports. The static check is mypy over
tests/unit/port_conformance.py (`make typecheck` runs before pytest); here, at run time,
every real adapter offers every method of its port with the port's parameter names, as
test_fake_conformance.py checks for the fakes."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from app.adapters.auth.jwt_tokens import JwtAccessTokens
from app.adapters.auth.passwords import Argon2PasswordHasher
from app.adapters.clock import SystemClock
from app.adapters.db.accounts import PiccoloRefreshTokenRepository, PiccoloUserRepository
from app.adapters.db.saved_cards import PiccoloSavedCardRepository
from app.adapters.redis.login_throttle import RedisLoginThrottle
from app.adapters.redis.revocations import RedisKeyRevocations, RedisSessionRevocations
from app.adapters.vault.cvc_cache import RedisCvcCache
from app.adapters.vault.keyring import VaultKeyring
from app.adapters.db import repositories as db
from app.adapters.providers.verdict_alarm import LoggingVerdictAlarm
from app.adapters.fraud.fingerprints import VaultCardFingerprints
from app.adapters.fraud.metrics import PrometheusFraudMetrics
from app.adapters.fraud.rule_store import PiccoloFraudRuleStore
from app.adapters.fraud.velocity import RedisVelocityCounter
from app.adapters.db.catalog_repositories import PiccoloProductRepository, PiccoloReservationRepository
from app.adapters.db.unit_of_work import PiccoloUnitOfWork, PiccoloUnitOfWorkFactory
from app.adapters.notify.target_guard import WebhookTargetGuard
from app.adapters.providers.card_processor import CardProcessorProvider
from app.adapters.providers.paypal import PayPalProvider
from app.adapters.providers.registry import ProviderRegistry
from app.adapters.providers.resilience import ResilientProvider
from app.adapters.providers.sandbox import SandboxProvider
from app.adapters.providers.stripe import StripeProvider
from app.adapters.queue.inline_bus import InProcessEventBus
from app.adapters.queue.processed_events import PiccoloProcessedEvents
from app.adapters.redis.locks import RedisLockManager
from app.adapters.vault.card_cache import RedisCardDataCache
from app.domain import ports, ports_accounts, ports_vault
from tests.unit import port_conformance
from tests.unit.test_fake_conformance import assert_offers_the_ports_methods, declared_ports

ROOT = Path(__file__).resolve().parents[2]
PORT_ADAPTERS = [
    (ports.Clock, SystemClock),
    (ports.OrderRepository, db.PiccoloOrderRepository),
    (ports.PaymentRepository, db.PiccoloPaymentRepository),
    (ports.RefundRepository, db.PiccoloRefundRepository),
    (ports.MerchantRepository, db.PiccoloMerchantRepository),
    (ports.KeyRevocations, RedisKeyRevocations),
    (ports.CallbackInbox, db.PiccoloCallbackInbox),
    (ports.MismatchRepository, db.PiccoloMismatchRepository),
    (ports.VerdictAlarm, LoggingVerdictAlarm),
    (ports.ProductRepository, PiccoloProductRepository),
    (ports.ReservationRepository, PiccoloReservationRepository),
    (ports.ProcessedEvents, PiccoloProcessedEvents),
    (ports.UnitOfWork, PiccoloUnitOfWork),
    (ports.UnitOfWorkFactory, PiccoloUnitOfWorkFactory),
    (ports.EventBus, InProcessEventBus),
    (ports.LockManager, RedisLockManager),
    (ports.CardDataCache, RedisCardDataCache),
    *[(ports.PaymentProvider, provider) for provider in (SandboxProvider, StripeProvider, PayPalProvider,
                                                         CardProcessorProvider, ResilientProvider)],
    (ports.ProviderRegistry, ProviderRegistry),
    (ports.FraudRuleStore, PiccoloFraudRuleStore),
    (ports.VelocityCounter, RedisVelocityCounter),
    (ports.CardFingerprints, VaultCardFingerprints),
    (ports.FraudDecisionMetrics, PrometheusFraudMetrics),
    (ports.WebhookTargetPolicy, WebhookTargetGuard),
    (ports_accounts.UserRepository, PiccoloUserRepository),
    (ports_accounts.RefreshTokenRepository, PiccoloRefreshTokenRepository),
    (ports_accounts.PasswordHasher, Argon2PasswordHasher),
    (ports_accounts.AccessTokenIssuer, JwtAccessTokens),
    (ports_accounts.SessionRevocations, RedisSessionRevocations),
    (ports_accounts.LoginThrottle, RedisLoginThrottle),
    (ports_vault.SavedCardRepository, PiccoloSavedCardRepository),
    (ports_vault.CardSealer, VaultKeyring),
    (ports_vault.CvcCache, RedisCvcCache),
]


def test_every_port_has_a_real_adapter():
    assert declared_ports() == {port for port, _ in PORT_ADAPTERS}


@pytest.mark.parametrize(("port", "adapter"), PORT_ADAPTERS, ids=[a.__name__ for _, a in PORT_ADAPTERS])
def test_adapter_has_the_ports_methods_and_parameters(port, adapter):
    assert_offers_the_ports_methods(port, adapter)


def test_the_static_conformance_module_is_type_checked():
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert "tests/unit/port_conformance.py" in mypy["files"]
    assert callable(port_conformance.real_adapters) and callable(port_conformance.fakes)
    assert callable(port_conformance.fraud_adapters) and callable(port_conformance.fraud_fakes)
    assert callable(port_conformance.account_adapters) and callable(port_conformance.account_fakes)

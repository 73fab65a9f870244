"""Static conformance: each real adapter and each in-memory fake, assigned to its port.
mypy checks this module (`make typecheck`, pyproject's [tool.mypy] files): an adapter or
fake that drifts from the domain's Protocols fails the build before any test runs.
test_port_conformance.py calls these functions so the module is also exercised."""

from __future__ import annotations

from app.adapters.auth.jwt_tokens import JwtAccessTokens
from app.adapters.auth.passwords import Argon2PasswordHasher
from app.adapters.clock import SystemClock
from app.adapters.db.accounts import PiccoloRefreshTokenRepository, PiccoloUserRepository
from app.adapters.db.saved_cards import PiccoloSavedCardRepository
from app.adapters.redis.login_throttle import RedisLoginThrottle
from app.adapters.redis.revocations import RedisKeyRevocations, RedisSessionRevocations
from app.adapters.vault.cvc_cache import RedisCvcCache
from app.adapters.vault.keyring import VaultKeyring
from app.adapters.db.catalog_repositories import PiccoloProductRepository, PiccoloReservationRepository
from app.adapters.db.repositories import (
    PiccoloCallbackInbox, PiccoloMerchantRepository, PiccoloMismatchRepository, PiccoloOrderRepository,
    PiccoloPaymentRepository, PiccoloRefundRepository,
)
from app.adapters.db.unit_of_work import PiccoloUnitOfWork, PiccoloUnitOfWorkFactory
from app.adapters.notify.delivery_log import PiccoloWebhookStore
from app.adapters.notify.event_log import PiccoloEventLog
from app.domain.services.events import EventLog
from app.adapters.notify.target_guard import WebhookTargetGuard
from app.adapters.notify.webhook_schedule import PiccoloWebhookSchedule
from app.adapters.notify.webhooks import StandardWebhookSender
from app.adapters.providers.card_processor import CardProcessorProvider
from app.adapters.providers.paypal import PayPalProvider
from app.adapters.providers.registry import ProviderRegistry
from app.adapters.providers.resilience import ResilientProvider
from app.adapters.providers.sandbox import SandboxProvider
from app.adapters.providers.stripe import StripeProvider
from app.adapters.providers.verdict_alarm import LoggingVerdictAlarm
from app.adapters.queue.inline_bus import InProcessEventBus, InProcessRetryScheduler
from app.adapters.queue.outbox_relay import Publisher
from app.adapters.queue.processed_events import PiccoloProcessedEvents
from app.adapters.queue.publisher import DramatiqPublisher
from app.adapters.redis.locks import RedisLockManager
from app.adapters.vault.card_cache import RedisCardDataCache
from app.adapters.fraud.fingerprints import VaultCardFingerprints
from app.adapters.fraud.metrics import PrometheusFraudMetrics
from app.adapters.fraud.rule_store import PiccoloFraudRuleStore
from app.adapters.fraud.velocity import RedisVelocityCounter
from app.domain import ports, ports_accounts, ports_vault
from app.domain.services import notifications
from tests.unit import fake_accounts
from tests.unit.fake_fraud import (
    FakeCardFingerprints, InMemoryFraudRuleStore, InMemoryVelocityCounter, RecordingFraudMetrics,
)
from tests.unit.fake_catalog import InMemoryProcessedEvents, InMemoryProductRepository, InMemoryReservationRepository
from tests.unit.fake_providers import FakeProvider, FakeProviderRegistry, InMemoryCardDataCache, RecordingVerdictAlarm
from tests.unit.fakes import (
    FakeClock, FakeWebhookTargetPolicy, InMemoryCallbackInbox, InMemoryEventBus, InMemoryLockManager,
    InMemoryMerchantRepository, InMemoryMismatchRepository, InMemoryOrderRepository, InMemoryPaymentRepository,
    InMemoryRefundRepository, InMemoryUnitOfWork, InMemoryUnitOfWorkFactory,
)


def real_adapters(
    clock: SystemClock, orders: PiccoloOrderRepository, payments: PiccoloPaymentRepository,
    refunds: PiccoloRefundRepository, merchants: PiccoloMerchantRepository, callbacks: PiccoloCallbackInbox,
    unit: PiccoloUnitOfWork, units: PiccoloUnitOfWorkFactory, bus: InProcessEventBus, locks: RedisLockManager,
    cards: RedisCardDataCache, sandbox: SandboxProvider, stripe: StripeProvider, paypal: PayPalProvider,
    card: CardProcessorProvider, resilient: ResilientProvider, registry: ProviderRegistry,
    webhook_store: PiccoloWebhookStore, sender: StandardWebhookSender, broker_retries: PiccoloWebhookSchedule,
    inline_retries: InProcessRetryScheduler, publisher: DramatiqPublisher, products: PiccoloProductRepository,
    reservations: PiccoloReservationRepository, processed: PiccoloProcessedEvents,
    mismatches: PiccoloMismatchRepository, alarm: LoggingVerdictAlarm, event_log: PiccoloEventLog,
) -> list[object]:
    conforming: list[object] = []
    as_event_log: EventLog = event_log
    as_mismatches: ports.MismatchRepository = mismatches
    as_alarm: ports.VerdictAlarm = alarm
    as_products: ports.ProductRepository = products
    as_reservations: ports.ReservationRepository = reservations
    as_processed: ports.ProcessedEvents = processed
    as_clock: ports.Clock = clock
    as_orders: ports.OrderRepository = orders
    as_payments: ports.PaymentRepository = payments
    as_refunds: ports.RefundRepository = refunds
    as_merchants: ports.MerchantRepository = merchants
    as_callbacks: ports.CallbackInbox = callbacks
    as_unit: ports.UnitOfWork = unit
    as_units: ports.UnitOfWorkFactory = units
    as_bus: ports.EventBus = bus
    as_locks: ports.LockManager = locks
    as_cards: ports.CardDataCache = cards
    providers: list[ports.PaymentProvider] = [sandbox, stripe, paypal, card, resilient]
    as_registry: ports.ProviderRegistry = registry
    as_store: notifications.WebhookStore = webhook_store
    as_sender: notifications.WebhookSender = sender
    retries: list[notifications.RetryScheduler] = [broker_retries, inline_retries]
    as_publisher: Publisher = publisher
    conforming += [as_clock, as_orders, as_payments, as_refunds, as_merchants, as_callbacks, as_unit, as_units,
                   as_bus, as_locks, as_cards, *providers, as_registry, as_store, as_sender, *retries, as_publisher,
                   as_products, as_reservations, as_processed, as_mismatches, as_alarm, as_event_log]
    return conforming


def fakes(
    clock: FakeClock, orders: InMemoryOrderRepository, payments: InMemoryPaymentRepository,
    refunds: InMemoryRefundRepository, merchants: InMemoryMerchantRepository, callbacks: InMemoryCallbackInbox,
    unit: InMemoryUnitOfWork, units: InMemoryUnitOfWorkFactory, bus: InMemoryEventBus, locks: InMemoryLockManager,
    cards: InMemoryCardDataCache, provider: FakeProvider, registry: FakeProviderRegistry,
    products: InMemoryProductRepository, reservations: InMemoryReservationRepository,
    processed: InMemoryProcessedEvents, mismatches: InMemoryMismatchRepository, alarm: RecordingVerdictAlarm,
) -> list[object]:
    as_mismatches: ports.MismatchRepository = mismatches
    as_alarm: ports.VerdictAlarm = alarm
    as_products: ports.ProductRepository = products
    as_reservations: ports.ReservationRepository = reservations
    as_processed: ports.ProcessedEvents = processed
    as_clock: ports.Clock = clock
    as_orders: ports.OrderRepository = orders
    as_payments: ports.PaymentRepository = payments
    as_refunds: ports.RefundRepository = refunds
    as_merchants: ports.MerchantRepository = merchants
    as_callbacks: ports.CallbackInbox = callbacks
    as_unit: ports.UnitOfWork = unit
    as_units: ports.UnitOfWorkFactory = units
    as_bus: ports.EventBus = bus
    as_locks: ports.LockManager = locks
    as_cards: ports.CardDataCache = cards
    as_provider: ports.PaymentProvider = provider
    as_registry: ports.ProviderRegistry = registry
    return [as_clock, as_orders, as_payments, as_refunds, as_merchants, as_callbacks, as_unit, as_units, as_bus,
            as_locks, as_cards, as_provider, as_registry, as_products, as_reservations, as_processed, as_mismatches,
            as_alarm]


def fraud_adapters(rules: PiccoloFraudRuleStore, velocity: RedisVelocityCounter, prints: VaultCardFingerprints,
                   metrics: PrometheusFraudMetrics) -> list[object]:
    as_rules: ports.FraudRuleStore = rules
    as_velocity: ports.VelocityCounter = velocity
    as_prints: ports.CardFingerprints = prints
    as_metrics: ports.FraudDecisionMetrics = metrics
    return [as_rules, as_velocity, as_prints, as_metrics]


def fraud_fakes(rules: InMemoryFraudRuleStore, velocity: InMemoryVelocityCounter, prints: FakeCardFingerprints,
                metrics: RecordingFraudMetrics) -> list[object]:
    as_rules: ports.FraudRuleStore = rules
    as_velocity: ports.VelocityCounter = velocity
    as_prints: ports.CardFingerprints = prints
    as_metrics: ports.FraudDecisionMetrics = metrics
    return [as_rules, as_velocity, as_prints, as_metrics]


def webhook_target_policies(guard: WebhookTargetGuard, fake: FakeWebhookTargetPolicy) -> list[object]:
    as_guard: ports.WebhookTargetPolicy = guard
    as_fake: ports.WebhookTargetPolicy = fake
    return [as_guard, as_fake]


def account_adapters(
    users: PiccoloUserRepository, tokens: PiccoloRefreshTokenRepository, hasher: Argon2PasswordHasher,
    issuer: JwtAccessTokens, revocations: RedisSessionRevocations, throttle: RedisLoginThrottle,
    cards: PiccoloSavedCardRepository, sealer: VaultKeyring, cvcs: RedisCvcCache,
) -> list[object]:
    as_users: ports_accounts.UserRepository = users
    as_tokens: ports_accounts.RefreshTokenRepository = tokens
    as_hasher: ports_accounts.PasswordHasher = hasher
    as_issuer: ports_accounts.AccessTokenIssuer = issuer
    as_revocations: ports_accounts.SessionRevocations = revocations
    as_throttle: ports_accounts.LoginThrottle = throttle
    as_cards: ports_vault.SavedCardRepository = cards
    as_sealer: ports_vault.CardSealer = sealer
    as_cvcs: ports_vault.CvcCache = cvcs
    return [as_users, as_tokens, as_hasher, as_issuer, as_revocations, as_throttle, as_cards, as_sealer, as_cvcs]


def account_fakes(
    users: fake_accounts.InMemoryUserRepository, tokens: fake_accounts.InMemoryRefreshTokenRepository,
    hasher: fake_accounts.FakePasswordHasher, issuer: fake_accounts.FakeAccessTokens,
    revocations: fake_accounts.InMemorySessionRevocations, throttle: fake_accounts.InMemoryLoginThrottle,
    cards: fake_accounts.InMemorySavedCardRepository, sealer: fake_accounts.FakeCardSealer,
    cvcs: fake_accounts.InMemoryCvcCache,
) -> list[object]:
    as_users: ports_accounts.UserRepository = users
    as_tokens: ports_accounts.RefreshTokenRepository = tokens
    as_hasher: ports_accounts.PasswordHasher = hasher
    as_issuer: ports_accounts.AccessTokenIssuer = issuer
    as_revocations: ports_accounts.SessionRevocations = revocations
    as_throttle: ports_accounts.LoginThrottle = throttle
    as_cards: ports_vault.SavedCardRepository = cards
    as_sealer: ports_vault.CardSealer = sealer
    as_cvcs: ports_vault.CvcCache = cvcs
    return [as_users, as_tokens, as_hasher, as_issuer, as_revocations, as_throttle, as_cards, as_sealer, as_cvcs]


def key_revocation_adapters(redis: RedisKeyRevocations, fake: fake_accounts.InMemoryKeyRevocations) -> list[object]:
    as_redis: ports.KeyRevocations = redis
    as_fake: ports.KeyRevocations = fake
    return [as_redis, as_fake]

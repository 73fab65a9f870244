"""The composition root: settings -> adapters -> use cases, for every driver. HTTP, the
workers and the CLI all take what they use from the Container built here; tests build
the same use cases with fakes passed as overrides (cosmicpython's `bootstrap()`)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, partial
from typing import TYPE_CHECKING, TypedDict

import redis.asyncio as redis_async
import structlog
from dramatiq import Broker
from opentelemetry.sdk.trace import TracerProvider
from piccolo.engine.postgres import PostgresEngine

from app.adapters.audit.trail import PiccoloAuditTrail
from app.adapters.auth.jwt_tokens import JwtAccessTokens
from app.adapters.auth.passwords import Argon2PasswordHasher
from app.adapters.clock import SystemClock
from app.adapters.fraud.fingerprints import VaultCardFingerprints
from app.adapters.fraud.metrics import PrometheusFraudMetrics
from app.adapters.fraud.rule_store import PiccoloFraudRuleStore
from app.adapters.fraud.velocity import RedisVelocityCounter
from app.adapters.db.admin_queries import AdminQueries
from app.adapters.db.notification_queries import NotificationQueries
from app.adapters.db.idempotency import PiccoloIdempotencyStore
from app.adapters.db.pool import close_pool
from app.adapters.db.reports import ProviderReports
from app.adapters.db.schema_version import SchemaVersion
from app.adapters.db.unit_of_work import PiccoloUnitOfWorkFactory, detach_from_transaction
from app.adapters.db.notification_preferences import PiccoloPreferenceStore
from app.adapters.notify.channels import close_senders, message_senders
from app.adapters.notify.delivery_log import PiccoloWebhookStore
from app.adapters.notify.event_log import PiccoloEventLog
from app.adapters.observability.tracing import build_tracing, stop_tracing
from app.adapters.notify.message_facts import PiccoloMessageFacts
from app.adapters.notify.notification_jobs import PiccoloNotificationJobs, PolledRetries
from app.adapters.notify.rendering import JinjaMessageRenderer
from app.adapters.notify.target_guard import WebhookTargetGuard
from app.adapters.notify.webhook_schedule import PiccoloWebhookSchedule
from app.adapters.notify.webhooks import StandardWebhookSender
from app.adapters.providers.call_log import PiccoloProviderCallLog
from app.adapters.providers.factory import build_providers
from app.adapters.providers.registry import ProviderRegistry
from app.adapters.providers.verdict_alarm import LoggingVerdictAlarm
from app.adapters.queue.broker import connect_broker, dead_letters_for
from app.adapters.queue.dead_letters import DeadLetterQueue
from app.adapters.queue.inline_bus import InProcessEventBus, InProcessNotificationRetries, InProcessRetryScheduler
from app.adapters.queue.outbox_relay import DurableConsumer, OutboxRelay
from app.adapters.queue.processed_events import PiccoloProcessedEvents
from app.adapters.queue.publisher import DramatiqPublisher
from app.adapters.redis.dashboard_sessions import RedisDashboardSessions
from app.adapters.redis.locks import RedisLockManager
from app.adapters.redis.login_throttle import RedisLoginThrottle, ThrottlePolicy
from app.adapters.db.merchant_secrets import WebhookSecretBox
from app.adapters.redis.revocations import RedisKeyRevocations, RedisSessionRevocations
from app.adapters.redis.rate_limits import RedisRateLimiter
from app.adapters.vault.card_cache import RedisCardDataCache
from app.adapters.vault.cvc_cache import RedisCvcCache
from app.adapters.vault.keyring import VaultKeyring
from app.adapters.vault.keys import vault_keyring
from app.domain.ports import (
    CardDataCache, CardFingerprints, Clock, FraudDecisionMetrics, FraudRuleStore, KeyRevocations, LockManager,
    UnitOfWorkFactory, VelocityCounter, VerdictAlarm, WebhookTargetPolicy,
)
from app.domain.ports_audit import AuditTrail
from app.domain.ports_accounts import AccessTokenIssuer, LoginThrottle, PasswordHasher, SessionRevocations
from app.domain.ports_notifications import MessageSender, NotificationJobs, PreferenceStore
from app.domain.model.notification import Channel
from app.domain.ports_vault import CardSealer, CvcCache
from app.domain.services.accounts import AccountService
from app.domain.routing import NOTIFY_CUSTOMER, NOTIFY_MERCHANT
from app.domain.services.fraud import FraudRuleService, FraudScreen
from app.domain.services.reviews import ReviewPolicy, ReviewService
from app.domain.services.callbacks import CallbackService
from app.domain.services.catalog import CatalogService
from app.domain.services.fulfillment import FulfillmentService
from app.domain.services.inventory import InventoryPolicy, StockKeeper
from app.domain.services.consumers import EventConsumers
from app.domain.services.events import EventLog, EventService
from app.domain.services.customer_notifications import CustomerNotifications
from app.domain.services.merchants import MerchantPolicy, MerchantService
from app.domain.services.notifications import NotificationService, RetryScheduler, WebhookSender, WebhookStore
from app.domain.services.notification_preferences import NotificationPreferenceService
from app.domain.services.orders import OrderService
from app.domain.services.payments import PaymentPolicy, PaymentService
from app.domain.services.refunds import RefundPolicy, RefundService
from app.domain.services.sessions import SessionPolicy, SessionService
from app.domain.services.vault import CardVaultService
from app.domain.services.verdicts import MismatchLog, VerdictGate
from config.settings import Settings

if TYPE_CHECKING:
    from typing_extensions import Unpack


@dataclass
class Container:
    """Everything the drivers use, built once per process."""

    settings: Settings
    engine: PostgresEngine
    redis: redis_async.Redis
    broker: Broker
    bus: InProcessEventBus
    uow: UnitOfWorkFactory
    idempotency: PiccoloIdempotencyStore
    providers: ProviderRegistry
    orders: OrderService
    merchants: MerchantService
    payments: PaymentService
    refunds: RefundService
    callbacks: CallbackService
    mismatches: MismatchLog
    catalog: CatalogService
    fulfillment: FulfillmentService
    notifications: NotificationService
    events: EventService  # the merchant's events and their webhook deliveries (GET /events)
    consumers: EventConsumers
    publisher: DramatiqPublisher
    relay: OutboxRelay
    processed: PiccoloProcessedEvents
    webhooks: PiccoloWebhookStore
    webhook_schedule: PiccoloWebhookSchedule  # webhook deliveries as durable jobs (workers)
    sender: StandardWebhookSender
    dead_letters: DeadLetterQueue
    fraud_rules: FraudRuleService
    reviews: ReviewService
    access_tokens: JwtAccessTokens
    sessions: SessionService
    accounts: AccountService
    vault: CardVaultService
    rate_limiter: RedisRateLimiter
    key_revocations: KeyRevocations  # merchant keys changed: API processes drop their key caches
    webhook_secrets: WebhookSecretBox
    audit: AuditTrail
    customer_notifications: CustomerNotifications  # shopper email/SMS
    notification_jobs: NotificationJobs  # their durable jobs (PiccoloNotificationJobs unless overridden)
    notification_preferences: NotificationPreferenceService
    message_senders: dict[Channel, MessageSender]
    admin_queries: AdminQueries  # the operator's read model (admin search, timeline, dashboard)
    notification_queries: NotificationQueries  # the operator's view of shopper email/SMS deliveries
    reports: ProviderReports
    dashboard_sessions: RedisDashboardSessions
    schema: SchemaVersion  # /ready: the schema holds the newest migration this code ships
    tracing: TracerProvider | None = None  # None: tracing off (FXP_TELEMETRY__ENABLED)
    owns_tracing: bool = False

    async def start(self) -> None:
        db = self.settings.database
        await self.engine.start_connection_pool(min_size=db.pool_min, max_size=db.pool_max,
                                                reset=_keep_session)

    async def stop(self) -> None:
        await self.bus.drain()
        await self.providers.aclose()
        await self.sender.aclose()
        try:
            await self.audit.flush()  # records of reads and failures still queued
        except Exception as exc:  # PostgreSQL gone: the stop goes on (they are lost, and logged)
            structlog.get_logger("fusionxpay.audit").warning("audit_records_lost", error=f"{type(exc).__name__}: {exc}")
        await close_senders(self.message_senders)
        await close_pool(self.engine, self.settings.database.close_timeout_s)
        await self.redis.aclose()
        if self.owns_tracing:
            stop_tracing(self.tracing)

    async def check_database(self) -> bool:
        async with self.engine.transaction() as transaction:
            answer = await transaction.connection.fetchval("SELECT 1")
        return bool(answer == 1)

    async def check_schema(self) -> bool:
        """The schema is at the migration this code expects (raises SchemaBehind before)."""
        return await self.schema.check()

    async def check_redis(self) -> bool:
        return bool(await self.redis.ping())


async def _keep_session(connection: object) -> None:
    """Connection reset on release to the pool. asyncpg's default (advisory unlock, CLOSE
    ALL, UNLISTEN, RESET ALL) costs a round trip per request; we use none of those session
    features, and asyncpg still rolls back any transaction left open before this runs."""


class Overrides(TypedDict, total=False):
    """What a caller may supply instead of the adapter built from settings."""

    engine: PostgresEngine
    redis: redis_async.Redis
    broker: Broker  # a worker process's own broker, with its actors
    schema: SchemaVersion
    bus: InProcessEventBus
    clock: Clock
    uow: UnitOfWorkFactory
    providers: ProviderRegistry
    locks: LockManager
    card_cache: CardDataCache
    webhook_store: WebhookStore
    event_log: EventLog
    webhook_sender: WebhookSender
    retries: RetryScheduler
    fraud_rules: FraudRuleStore
    velocity: VelocityCounter
    fingerprints: CardFingerprints
    fraud_metrics: FraudDecisionMetrics
    webhook_targets: WebhookTargetPolicy  # what merchants may register (the sender keeps its guard)
    alarm: VerdictAlarm
    password_hasher: PasswordHasher
    login_throttle: LoginThrottle
    session_revocations: SessionRevocations
    key_revocations: KeyRevocations
    token_issuer: AccessTokenIssuer  # what sessions sign with (HTTP still verifies with the JWT codec)
    card_sealer: CardSealer
    cvc_cache: CvcCache
    audit: AuditTrail
    tracing: TracerProvider | None  # the process's (a worker's, a test's in-memory one); None: off
    message_senders: dict[Channel, MessageSender]  # shopper email/SMS transports, by channel
    notification_jobs: NotificationJobs
    preference_store: PreferenceStore


def build_container(settings: Settings, **overrides: Unpack[Overrides]) -> Container:
    o = overrides
    engine = o["engine"] if "engine" in o else _database()
    redis = o["redis"] if "redis" in o else redis_async.Redis.from_url(settings.redis.url or "redis://127.0.0.1:6379/0")
    broker = o["broker"] if "broker" in o else connect_broker(settings)
    inline = settings.payments.dispatch == "inline"  # no workers: consumers run in-process after commit
    bus = o["bus"] if "bus" in o else InProcessEventBus() if inline else InProcessEventBus(routes={})
    bus.detach = partial(detach_from_transaction, engine)
    clock = o["clock"] if "clock" in o else SystemClock()
    audit = o["audit"] if "audit" in o else PiccoloAuditTrail(engine)
    keyring = cache(lambda: vault_keyring(settings))  # only when an adapter that needs keys is built
    # Webhook secrets are sealed under configured vault keys only: a process-local key
    # (none configured, dev/tests) would make them unreadable to the other processes.
    webhook_secrets = WebhookSecretBox(keyring() if settings.vault.keys else None)
    uow = o["uow"] if "uow" in o else PiccoloUnitOfWorkFactory(engine, bus, audit, settings.audit.enabled,
                                                              secrets=webhook_secrets)
    sealer = o["card_sealer"] if "card_sealer" in o else keyring()
    vault = CardVaultService(uow, clock, sealer,
                             o["cvc_cache"] if "cvc_cache" in o else RedisCvcCache(redis, keyring(), settings.vault.cvc_ttl_s))
    providers = o["providers"] if "providers" in o else build_providers(settings, reveal=vault.reveal,
                                                                                 calls=PiccoloProviderCallLog(engine))
    locks = o["locks"] if "locks" in o else RedisLockManager(redis)
    card_cache = o["card_cache"] if "card_cache" in o else _card_cache(settings, redis, keyring())
    p, workers, inv = settings.payments, settings.workers, settings.inventory
    stock = StockKeeper(InventoryPolicy(inv.reservation_ttl_s, inv.max_units_per_sku, inv.shipping_business_days))
    fraud_rules = o["fraud_rules"] if "fraud_rules" in o else PiccoloFraudRuleStore(engine)
    velocity = o["velocity"] if "velocity" in o else RedisVelocityCounter(redis)
    fingerprints = o["fingerprints"] if "fingerprints" in o else VaultCardFingerprints(sealer)
    fraud_metrics = o["fraud_metrics"] if "fraud_metrics" in o else PrometheusFraudMetrics()
    screen = FraudScreen(fraud_rules, velocity, fingerprints, fraud_metrics, enabled=settings.fraud.enabled)
    gate = VerdictGate(clock, o["alarm"] if "alarm" in o else LoggingVerdictAlarm())
    payments = PaymentService(uow, clock, providers, card_cache, PaymentPolicy(
        p.max_attempts, p.pending_timeout_s, p.give_up_after_s,
        allow_http_loopback_return_url=settings.env in ("test", "dev")), gate, stock, screen)
    refunds = RefundService(uow, clock, providers, RefundPolicy(retry_delays_s=p.refund_retry_delays_s))
    fulfillment = FulfillmentService(uow, clock, stock)
    publisher = DramatiqPublisher(broker)
    processed = PiccoloProcessedEvents()
    webhooks = PiccoloWebhookStore(engine, processed, webhook_secrets)
    target_guard = WebhookTargetGuard(workers.webhook_allowlist)
    sender = StandardWebhookSender(workers.webhook_timeout_s, target_guard)
    webhook_schedule = PiccoloWebhookSchedule(engine, workers.webhook_lease_s, workers.webhook_timeout_s)
    # With workers, retries are rows in PostgreSQL that the poller wakes when due.
    retries = o["retries"] if "retries" in o else (InProcessRetryScheduler(bus) if inline else webhook_schedule)
    notifications = NotificationService(o.get("webhook_store", webhooks), o.get("webhook_sender", sender),
                                        retries, workers.webhook_retry_delays_s)
    n = settings.notifications
    senders = o["message_senders"] if "message_senders" in o else message_senders(n)
    jobs = o["notification_jobs"] if "notification_jobs" in o else PiccoloNotificationJobs(
        engine, frozenset(senders), n.lease_s, max(n.smtp_timeout_s, n.sms_timeout_s))
    customers = CustomerNotifications(jobs, PiccoloMessageFacts(engine), JinjaMessageRenderer(), senders,
                                      InProcessNotificationRetries(bus) if inline else PolledRetries(),
                                      n.retry_delays_s, n.max_retry_after_s, n.in_doubt_email)
    consumers = EventConsumers(payments, refunds, notifications, fulfillment, customers)
    bus.serve(consumers.by_name())
    key_revocations = o["key_revocations"] if "key_revocations" in o else RedisKeyRevocations(redis)
    a = settings.auth
    access_tokens = JwtAccessTokens(jwt_secret(settings), a.access_ttl_s)
    sessions = SessionService(uow, clock, o["token_issuer"] if "token_issuer" in o else access_tokens,
                              o["session_revocations"] if "session_revocations" in o
                              else RedisSessionRevocations(redis, a.access_ttl_s),
                              SessionPolicy(a.access_ttl_s, a.refresh_ttl_s))
    accounts = AccountService(uow, clock, o["password_hasher"] if "password_hasher" in o else password_hasher(settings),
                              sessions, o["login_throttle"] if "login_throttle" in o else _login_throttle(settings, redis))
    return Container(
        settings=settings, engine=engine, redis=redis, broker=broker, bus=bus, uow=uow,
        idempotency=PiccoloIdempotencyStore(engine, settings.api.idempotency_ttl_s), providers=providers,
        orders=OrderService(uow, clock, p.max_amount_minor, stock),
        merchants=MerchantService(uow, clock, key_mode="live" if settings.env == "prod" else "test",
                                  target_policy=o.get("webhook_targets", target_guard), revocations=key_revocations,
                                  policy=MerchantPolicy(settings.merchants.api_key_grace_s,
                                                        settings.merchants.webhook_secret_overlap_s)),
        payments=payments, refunds=refunds, callbacks=CallbackService(uow, providers, payments, refunds),
        mismatches=MismatchLog(uow),
        catalog=CatalogService(uow, clock, p.max_amount_minor), fulfillment=fulfillment,
        notifications=notifications,
        events=EventService(o["event_log"] if "event_log" in o else PiccoloEventLog(engine)),
        consumers=consumers, publisher=publisher,
        relay=OutboxRelay(engine, publisher, batch_size=workers.relay_batch_size,
                          durable=_durable(webhook_schedule, jobs)),
        processed=processed, webhooks=webhooks, webhook_schedule=webhook_schedule, sender=sender,
        dead_letters=dead_letters_for(broker),
        fraud_rules=FraudRuleService(uow, fraud_rules),
        reviews=ReviewService(uow, clock, stock, ReviewPolicy(settings.fraud.review_deadline_s)),
        access_tokens=access_tokens, sessions=sessions, accounts=accounts, vault=vault,
        rate_limiter=RedisRateLimiter(redis), key_revocations=key_revocations, webhook_secrets=webhook_secrets,
        audit=audit,
        tracing=o["tracing"] if "tracing" in o else build_tracing(settings.telemetry, "api"),
        owns_tracing="tracing" not in o,
        customer_notifications=customers, notification_jobs=jobs,
        notification_preferences=NotificationPreferenceService(
            o["preference_store"] if "preference_store" in o else PiccoloPreferenceStore(engine)),
        message_senders=senders,
        admin_queries=AdminQueries(engine), notification_queries=NotificationQueries(engine),
        reports=ProviderReports(engine),
        dashboard_sessions=RedisDashboardSessions(redis),
        schema=o["schema"] if "schema" in o else SchemaVersion(engine),
    )


def _durable(webhook_schedule: PiccoloWebhookSchedule, jobs: NotificationJobs) -> dict[str, DurableConsumer]:
    """Consumers whose work the relay records as jobs in PostgreSQL instead of messages."""
    durable: dict[str, DurableConsumer] = {NOTIFY_MERCHANT: webhook_schedule}
    if isinstance(jobs, PiccoloNotificationJobs):  # a fake job store (unit tests) keeps messages
        durable[NOTIFY_CUSTOMER] = jobs
    return durable


def _database() -> PostgresEngine:
    from config.piccolo_conf import DB  # the engine Piccolo's tables are bound to

    return DB


def _card_cache(settings: Settings, redis: redis_async.Redis, keyring: VaultKeyring) -> RedisCardDataCache:
    return RedisCardDataCache(redis, keyring, settings.vault.card_cache_ttl_s)


# FXP_ENV=test: Argon2id at its cheapest, so a suite that logs in often stays fast.
TEST_ARGON2 = (1, 64, 1)


def password_hasher(settings: Settings) -> Argon2PasswordHasher:
    a = settings.auth
    cost = TEST_ARGON2 if settings.env == "test" else (a.argon2_time_cost, a.argon2_memory_kib, a.argon2_parallelism)
    return Argon2PasswordHasher(*cost)


def _login_throttle(settings: Settings, redis: redis_async.Redis) -> RedisLoginThrottle:
    a = settings.auth
    return RedisLoginThrottle(redis, ThrottlePolicy(a.throttle_free_per_address, a.throttle_free_per_account,
                                                    a.throttle_base_delay_s, a.throttle_max_delay_s,
                                                    a.throttle_window_s))


def jwt_secret(settings: Settings) -> str | None:
    """FXP_AUTH__JWT_SECRET; required in production, else (None) the issuer makes one up."""
    if not settings.auth.jwt_secret and settings.env == "prod":
        raise RuntimeError("FXP_AUTH__JWT_SECRET must be set in production")
    return settings.auth.jwt_secret or None

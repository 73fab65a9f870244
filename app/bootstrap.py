"""The composition root: settings -> adapters -> use cases. HTTP, workers and the CLI
all get their use cases from here; tests build the same use cases with fakes."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field

import redis.asyncio as redis_async
import structlog
from piccolo.engine.postgres import PostgresEngine

from app.adapters.clock import SystemClock
from app.adapters.db.idempotency import PiccoloIdempotencyStore
from app.adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from app.adapters.providers.factory import build_providers
from app.adapters.providers.registry import ProviderRegistry
from app.adapters.queue.inline_bus import InProcessEventBus
from app.adapters.redis.locks import RedisLockManager
from app.adapters.vault.card_cache import RedisCardDataCache
from app.domain.services.callbacks import CallbackService
from app.domain.services.event_handlers import event_handlers
from app.domain.services.merchants import MerchantService
from app.domain.services.orders import OrderService
from app.domain.services.payments import PaymentPolicy, PaymentService
from app.domain.services.refunds import RefundService
from config.settings import Settings

logger = structlog.get_logger("fusionxpay.bootstrap")


@dataclass
class Container:
    settings: Settings
    engine: PostgresEngine
    redis: redis_async.Redis
    bus: InProcessEventBus
    uow: PiccoloUnitOfWorkFactory
    idempotency: PiccoloIdempotencyStore
    providers: ProviderRegistry
    orders: OrderService
    merchants: MerchantService
    payments: PaymentService
    refunds: RefundService
    callbacks: CallbackService
    extras: dict[str, object] = field(default_factory=dict)

    async def start(self) -> None:
        db = self.settings.database
        await self.engine.start_connection_pool(min_size=db.pool_min, max_size=db.pool_max,
                                                reset=_keep_session)

    async def stop(self) -> None:
        await self.bus.drain()
        await self.providers.aclose()
        await self.engine.close_connection_pool()
        await self.redis.aclose()

    async def check_database(self) -> bool:
        async with self.engine.transaction() as transaction:
            return await transaction.connection.fetchval("SELECT 1") == 1

    async def check_redis(self) -> bool:
        return bool(await self.redis.ping())


async def _keep_session(connection: object) -> None:
    """Connection reset on release to the pool. asyncpg's default (advisory unlock, CLOSE
    ALL, UNLISTEN, RESET ALL) costs a round trip per request; we use none of those session
    features, and asyncpg still rolls back any transaction left open before this runs."""


def vault_keys(settings: Settings) -> tuple[dict[str, bytes], str]:
    """Versioned AES keys "v1:<b64>,v2:<b64>"; the last encrypts. Without configured keys
    (dev, tests) a process-local key is made up: fine for one process, not for several."""
    entries = [entry.partition(":") for entry in settings.vault.keys.split(",") if entry]
    if not entries:
        if settings.env == "prod":
            raise RuntimeError("FXP_VAULT__KEYS must be set in production")
        logger.warning("vault_key_generated", detail="no FXP_VAULT__KEYS; using a process-local key")
        entries = [("dev", ":", base64.b64encode(os.urandom(32)).decode())]
    return {key_id: base64.b64decode(value) for key_id, _, value in entries}, entries[-1][0]


def build_container(settings: Settings) -> Container:
    from config.piccolo_conf import DB  # the engine Piccolo's tables are bound to

    clock = SystemClock()
    bus = InProcessEventBus()
    uow = PiccoloUnitOfWorkFactory(DB, bus)
    redis = redis_async.Redis.from_url(settings.redis.url or "redis://127.0.0.1:6379/0")
    providers = build_providers(settings)
    keys, current_key = vault_keys(settings)
    p = settings.payments
    payments = PaymentService(
        uow, clock, providers, RedisLockManager(redis),
        RedisCardDataCache(redis, keys, current_key, settings.vault.card_cache_ttl_s),
        PaymentPolicy(p.max_attempts, p.order_lock_timeout_s, p.pending_timeout_s, p.give_up_after_s),
    )
    refunds = RefundService(uow, clock, providers)
    if p.dispatch == "inline":  # no workers: run the handlers in-process after commit
        for event_type, handlers in event_handlers(payments, refunds).items():
            for handler in handlers:
                bus.subscribe(event_type, handler)
    merchants = MerchantService(uow, clock, key_mode="live" if settings.env == "prod" else "test")
    return Container(
        settings=settings, engine=DB, redis=redis, bus=bus, uow=uow,
        idempotency=PiccoloIdempotencyStore(DB, settings.api.idempotency_ttl_s),
        providers=providers,
        orders=OrderService(uow, clock, p.max_amount_minor),
        merchants=merchants, payments=payments, refunds=refunds,
        callbacks=CallbackService(uow, providers, payments, refunds),
    )

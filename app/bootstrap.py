"""The composition root: settings -> adapters -> use cases. HTTP, workers and the CLI
all get their use cases from here; tests build the same use cases with fakes."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis.asyncio as redis_async
from piccolo.engine.postgres import PostgresEngine

from app.adapters.clock import SystemClock
from app.adapters.db.idempotency import PiccoloIdempotencyStore
from app.adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from app.adapters.queue.inline_bus import InProcessEventBus
from app.domain.services.merchants import MerchantService
from app.domain.services.orders import OrderService
from app.entrypoints.http.auth import MerchantAuthenticator
from config.settings import Settings


@dataclass
class Container:
    settings: Settings
    engine: PostgresEngine
    redis: redis_async.Redis
    bus: InProcessEventBus
    uow: PiccoloUnitOfWorkFactory
    idempotency: PiccoloIdempotencyStore
    orders: OrderService
    merchants: MerchantService
    authenticator: MerchantAuthenticator
    extras: dict[str, object] = field(default_factory=dict)

    async def start(self) -> None:
        db = self.settings.database
        await self.engine.start_connection_pool(min_size=db.pool_min, max_size=db.pool_max)

    async def stop(self) -> None:
        await self.bus.drain()
        await self.engine.close_connection_pool()
        await self.redis.aclose()

    async def check_database(self) -> bool:
        async with self.engine.transaction() as transaction:
            return await transaction.connection.fetchval("SELECT 1") == 1

    async def check_redis(self) -> bool:
        return bool(await self.redis.ping())


def build_container(settings: Settings) -> Container:
    from config.piccolo_conf import DB  # the engine Piccolo's tables are bound to

    clock = SystemClock()
    bus = InProcessEventBus()
    uow = PiccoloUnitOfWorkFactory(DB, bus)
    merchants = MerchantService(uow, clock, key_mode="live" if settings.env == "prod" else "test")
    return Container(
        settings=settings,
        engine=DB,
        redis=redis_async.Redis.from_url(settings.redis.url or "redis://127.0.0.1:6379/0"),
        bus=bus,
        uow=uow,
        idempotency=PiccoloIdempotencyStore(DB, settings.api.idempotency_ttl_s),
        orders=OrderService(uow, clock, settings.payments.max_amount_minor),
        merchants=merchants,
        authenticator=MerchantAuthenticator(merchants),
    )

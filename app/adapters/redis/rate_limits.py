"""Request rate limits on Redis with the `limits` library: a moving window per limit and
identity, kept by Lua scripts in Redis, so every API process shares one count and a
request is admitted atomically (no read-then-write race between processes)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import redis.asyncio as redis_async
import structlog
from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

logger = structlog.get_logger("fusionxpay.rate_limits")


@dataclass(frozen=True, slots=True)
class Refusal:
    """The limit that refused a request, for the 429's RateLimit and Retry-After headers."""

    limit: int
    window_s: int
    retry_after_s: int


def parse_limits(text: str, setting: str) -> tuple[RateLimitItem, ...]:
    """'100/second;2000/minute' (the `limits` notation); a bad one stops the process at start-up."""
    try:
        return tuple(parse_many(text)) if text.strip() else ()
    except ValueError as exc:
        raise ValueError(f"{setting}: {exc}") from None


class RedisRateLimiter:
    def __init__(self, client: redis_async.Redis) -> None:
        # The container's own connection pool: no second set of connections to Redis.
        storage = RedisStorage("async+redis://", implementation="redispy",
                               connection_pool=client.connection_pool)  # type: ignore[arg-type]  # typed too narrowly
        self._limiter = MovingWindowRateLimiter(storage)

    async def admit(self, group: str, identities: list[str], items: tuple[RateLimitItem, ...]) -> Refusal | None:
        """Count this request against each (limit, identity) in turn, stopping at the first
        refusal: a refused request consumes nothing further on. (Counting every limit even
        after a refusal lets concurrent requests reach two counters in different orders,
        each refused by one: fewer admitted than the limit.)"""
        try:
            for item in items:
                for identity in identities:
                    if not await self._limiter.hit(item, group, identity):
                        stats = await self._limiter.get_window_stats(item, group, identity)
                        return Refusal(item.amount, item.get_expiry(),
                                       max(1, math.ceil(stats.reset_time - time.time())))
        except RedisError as exc:
            # Fail open: a Redis outage must not refuse every request; the operations
            # that need Redis (order locks) still answer 503 on their own.
            logger.warning("rate_limit_unavailable", error=type(exc).__name__)
            return None
        return None

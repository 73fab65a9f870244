"""Short-lived distributed locks on Redis (redis.asyncio's Lock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as redis_async
from redis.exceptions import LockError

from app.domain.errors import Conflict


class RedisLockManager:
    def __init__(self, client: redis_async.Redis, lease_s: float = 30.0) -> None:
        self._client = client
        self._lease_s = lease_s  # the lock frees itself if its holder dies

    @asynccontextmanager
    async def hold(self, name: str, timeout_s: float) -> AsyncIterator[None]:
        lock = self._client.lock(name, timeout=self._lease_s, blocking_timeout=timeout_s)
        if not await lock.acquire():
            raise Conflict("another request for this order is in progress; retry shortly", code="order_busy")
        try:
            yield
        finally:
            try:
                await lock.release()
            except LockError:  # the lease ran out first; the database constraints still hold
                pass

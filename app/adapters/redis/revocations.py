"""Revoked sessions, for as long as their access tokens could still be presented.

Rebuildable from PostgreSQL (refresh_tokens.revoked_at of the last access-token
lifetime), so Redis only speeds the per-request check up."""

from __future__ import annotations

import uuid

import redis.asyncio as redis_async

from app.adapters.redis.shared_read import SharedRead


class RedisSessionRevocations:
    PREFIX = "fxp:revoked-session:"

    def __init__(self, client: redis_async.Redis, access_ttl_s: int) -> None:
        self._client, self._ttl_s = client, access_ttl_s

    async def revoke(self, family_ids: list[uuid.UUID]) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for family_id in family_ids:
                pipe.set(self.PREFIX + str(family_id), b"1", ex=self._ttl_s + 60)  # a minute of clock skew
            await pipe.execute()

    async def is_revoked(self, family_id: uuid.UUID) -> bool:
        return bool(await self._client.exists(self.PREFIX + str(family_id)))


class RedisKeyRevocations:
    """A version of the merchants' keys in Redis, shared by every process: changed (to a
    fresh random value) after a key is revoked or a merchant deactivated. API processes
    compare it on each key-authenticated request with the version their key cache was
    filled under, and drop the cache when it differs. A Redis that lost the value (a
    restart) reads as another version too, so the caches are dropped, never kept.

    Requests of one process arriving together share a GET, but only one sent after they
    arrived (SharedRead): a change made before a request arrived is always seen by it."""

    KEY = "fxp:merchant-keys:version"

    def __init__(self, client: redis_async.Redis) -> None:
        self._client = client
        self._shared_get = SharedRead(self._get)

    async def changed(self) -> None:
        await self._client.set(self.KEY, uuid.uuid4().hex)

    async def version(self) -> str:
        return await self._shared_get()

    async def _get(self) -> str:
        value = await self._client.get(self.KEY)
        return value.decode() if isinstance(value, bytes) else (value or "")

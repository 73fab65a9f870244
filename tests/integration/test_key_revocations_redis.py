"""The key-revocation version on the real Redis: requests arriving together share one
GET; a version changed before a request arrives is what that request reads."""

from __future__ import annotations

import asyncio

from app.adapters.redis.revocations import RedisKeyRevocations


class CountingRedis:
    """The real client, counting the GETs that reach it."""

    def __init__(self, client) -> None:
        self._client, self.gets = client, 0

    async def get(self, key: str):
        self.gets += 1
        return await self._client.get(key)

    async def set(self, key: str, value: str):
        return await self._client.set(key, value)


async def test_concurrent_requests_share_one_get(container):
    redis = CountingRedis(container.redis)
    revocations = RedisKeyRevocations(redis)
    versions = await asyncio.gather(*(revocations.version() for _ in range(20)))
    assert redis.gets == 1 and len(set(versions)) == 1


async def test_a_change_before_a_request_arrives_is_seen_even_while_a_get_is_in_flight(container):
    reader = RedisKeyRevocations(container.redis)
    writer = RedisKeyRevocations(container.redis)  # another process revoking a key
    for _ in range(50):
        before = asyncio.ensure_future(reader.version())
        await asyncio.sleep(0)  # its GET is sent
        await writer.changed()
        after = await reader.version()  # arrived after the change: must see it
        assert after == await writer.version()
        await before

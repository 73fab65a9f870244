"""Velocity counters on Redis: one sorted set per (merchant, subject, value), scored by
time in ms, members the attempt ids. One Lua script trims, adds and counts every
subject of an attempt, so each attempt is counted exactly once and every API process
sees the same totals (Redis runs a script atomically). Values are hashed: no email or
IP address is kept in Redis in clear. What is kept can be lost: it is a rate, not a record."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime

import redis.asyncio as redis_async

HIT_AND_COUNT = """
local now, member, pos, out = tonumber(ARGV[1]), ARGV[2], 3, {}
for _, key in ipairs(KEYS) do
  local n, longest = tonumber(ARGV[pos]), 0
  for j = 1, n do longest = math.max(longest, tonumber(ARGV[pos + j])) end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - longest)
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, longest)
  for j = 1, n do
    out[#out + 1] = redis.call('ZCOUNT', key, '(' .. (now - tonumber(ARGV[pos + j])), '+inf')
  end
  pos = pos + n + 1
end
return out
"""


class RedisVelocityCounter:
    def __init__(self, client: redis_async.Redis, prefix: str = "fxp:fraud:velocity") -> None:
        self._script = client.register_script(HIT_AND_COUNT)
        self._prefix = prefix

    def _key(self, merchant_id: uuid.UUID, subject: str, value: str) -> str:
        digest = hashlib.sha256(value.encode()).hexdigest()[:32]
        return f"{self._prefix}:{merchant_id}:{subject}:{digest}"

    async def hit(self, merchant_id: uuid.UUID, subjects: Mapping[str, tuple[str, frozenset[int]]],
                  member: str, now: datetime) -> dict[tuple[str, int], int]:
        keys: list[str] = []
        argv: list[int | str] = [int(now.timestamp() * 1000), member]
        order: list[tuple[str, int]] = []
        for subject, (value, windows) in subjects.items():
            keys.append(self._key(merchant_id, subject, value))
            ordered = sorted(windows)
            argv += [len(ordered), *(window * 1000 for window in ordered)]
            order += [(subject, window) for window in ordered]
        counts = await self._script(keys=keys, args=argv)
        return {slot: int(count) for slot, count in zip(order, counts, strict=True)}

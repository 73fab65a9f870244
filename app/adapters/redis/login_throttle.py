"""Failed-login throttling in Redis, shared by every API process.

Each key (per client address, per address + account) counts failures in a hash; past
its free allowance every further failure blocks the key for a delay that doubles each
time (capped). Counting and blocking happen in one Lua script, so concurrent failures in
several processes are all counted and the delays grow as if they came one by one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio as redis_async

_FAILED = """
local now, window, base, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local wait = 0
for i, key in ipairs(KEYS) do
  local failures = redis.call('HINCRBY', key, 'n', 1)
  local over = failures - tonumber(ARGV[4 + i])
  local ttl = window
  if over > 0 then
    local delay = math.floor(math.min(base * 2 ^ (over - 1), cap))
    redis.call('HSET', key, 'until', now + delay)
    if delay > wait then wait = delay end
    if delay > ttl then ttl = delay end
  end
  redis.call('PEXPIRE', key, ttl)
end
return wait
"""


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_per_address: int = 20  # many users may share one address (NAT, offices)
    free_per_account: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 900.0
    window_s: float = 900.0  # failures are forgotten this long after the last one


class RedisLoginThrottle:
    PREFIX = "fxp:login-failures:"

    def __init__(self, client: redis_async.Redis, policy: ThrottlePolicy,
                 clock: Callable[[], float] = time.time) -> None:
        self._client, self._policy, self._clock = client, policy, clock
        self._failed = client.register_script(_FAILED)

    def _free(self, key: str) -> int:
        p = self._policy
        return p.free_per_address if key.startswith("ip:") else p.free_per_account

    async def retry_after(self, keys: list[str]) -> float | None:
        async with self._client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.hget(self.PREFIX + key, "until")
            blocked_until = await pipe.execute()
        now_ms = self._clock() * 1000
        wait_ms = max((float(until) - now_ms for until in blocked_until if until is not None), default=0.0)
        return wait_ms / 1000 if wait_ms > 0 else None

    async def failed(self, keys: list[str]) -> None:
        p = self._policy
        await self._failed(keys=[self.PREFIX + key for key in keys],
                           args=[int(self._clock() * 1000), int(p.window_s * 1000), int(p.base_delay_s * 1000),
                                 int(p.max_delay_s * 1000), *(self._free(key) for key in keys)])

    async def succeeded(self, keys: list[str]) -> None:
        await self._client.delete(*(self.PREFIX + key for key in keys))

"""Login safety against the real Redis: growing delays, counted atomically across
processes (several throttles on separate connections), and the HTTP 429."""

from __future__ import annotations

import asyncio
import uuid

import redis.asyncio as redis_async

from app.adapters.redis.login_throttle import RedisLoginThrottle, ThrottlePolicy
from tests.integration.accounts.conftest import PASSWORD

POLICY = ThrottlePolicy(free_per_address=100, free_per_account=2, base_delay_s=1.0, max_delay_s=8.0,
                        window_s=60.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_delays_double_after_the_free_failures_and_are_capped(settings):
    client = redis_async.Redis.from_url(settings.redis.url)
    clock = Clock()
    throttle = RedisLoginThrottle(client, POLICY, clock)
    keys = [f"ip-email:test:{uuid.uuid4()}"]
    waits = []
    for _ in range(7):
        await throttle.failed(keys)
        waits.append(await throttle.retry_after(keys))
    assert waits == [None, None, 1.0, 2.0, 4.0, 8.0, 8.0]
    clock.now += 8.0
    assert await throttle.retry_after(keys) is None  # the block has run out, the count has not
    await throttle.succeeded(keys)
    await throttle.failed(keys)
    assert await throttle.retry_after(keys) is None  # a success starts the account afresh
    await client.aclose()


async def test_concurrent_failures_from_several_processes_are_all_counted(settings):
    clients = [redis_async.Redis.from_url(settings.redis.url) for _ in range(4)]
    clock = Clock()
    throttles = [RedisLoginThrottle(client, POLICY, clock) for client in clients]
    keys = [f"ip-email:test:{uuid.uuid4()}"]
    await asyncio.gather(*[throttles[i % 4].failed(keys) for i in range(12)])
    # 12 failures, 2 free: the 12th set a delay of min(2^9, 8) s, whichever process ran it
    assert await throttles[0].retry_after(keys) == 8.0
    assert int(await clients[0].hget(RedisLoginThrottle.PREFIX + keys[0], "n")) == 12
    for client in clients:
        await client.aclose()


async def test_throttled_login_is_a_429_with_retry_after(client, merchant, register):
    user = await register(merchant)
    statuses = []
    for _ in range(7):
        response = await client.post("/auth/login", json={"email": user.email, "password": "wrong-password-1",
                                                          "merchant_id": merchant.id})
        statuses.append(response.status_code)
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429
    throttled = await client.post("/auth/login", json={"email": user.email, "password": PASSWORD,
                                                       "merchant_id": merchant.id})
    assert throttled.status_code == 429 and throttled.headers["content-type"] == "application/problem+json"
    assert throttled.json()["code"] == "too_many_attempts" and int(throttled.headers["retry-after"]) >= 1


async def test_unknown_email_and_wrong_password_answer_alike(client, merchant, register):
    user = await register(merchant)
    unknown = await client.post("/auth/login", json={"email": "nobody-here@example.com", "password": PASSWORD,
                                                     "merchant_id": merchant.id})
    wrong = await client.post("/auth/login", json={"email": user.email, "password": "wrong-password-1",
                                                   "merchant_id": merchant.id})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()

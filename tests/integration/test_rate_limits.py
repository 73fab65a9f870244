"""Rate limits on real Redis: 429 problems with Retry-After and RateLimit headers, per
credential and per client IP, per route group; health, readiness and provider callbacks
not limited; a burst of 1,000 past the limit refuses the excess and half-does nothing.
(Two API processes sharing the count: tests/e2e/test_rate_limit_processes.py.)"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import httpx
import msgspec
import pytest

from app.entrypoints.http.client_address import ClientAddress
from app.entrypoints.http.rate_limit import route_group
from tests.integration.test_orders_api import ORDER


def limited_app(container, groups: str, default: str = "1000/minute"):
    from app.entrypoints.http.app import create_app

    s = container.settings
    settings = msgspec.structs.replace(
        s, rate_limit=msgspec.structs.replace(s.rate_limit, enabled=True, default=default, groups=groups),
        api=msgspec.structs.replace(s.api, trusted_proxies="127.0.0.1/32"))
    return create_app(dataclasses.replace(container, settings=settings))


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://limits.test", timeout=60)


def from_ip() -> dict[str, str]:
    """A fresh client address per test (believed: the test's peer is a trusted proxy)."""
    return {"X-Forwarded-For": f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"}


async def orders_of(container, merchant_id: str) -> int:
    async with container.engine.transaction() as tx:
        return await tx.connection.fetchval("SELECT count(*) FROM orders WHERE merchant_id = $1",
                                            uuid.UUID(merchant_id))


async def test_past_the_limit_a_429_problem_with_retry_after_and_ratelimit_headers(container, merchant):
    async with client_for(limited_app(container, "orders=3/minute")) as client:
        headers = {**merchant.headers, **from_ip()}
        statuses = [(await client.post("/orders", json=ORDER, headers=headers)).status_code for _ in range(3)]
        refused = await client.post("/orders", json=ORDER, headers=headers)
        other_group = await client.get("/products", headers=headers)
    assert statuses == [201, 201, 201]
    assert refused.status_code == 429 and refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-limit"] == "3" and refused.headers["ratelimit-remaining"] == "0"
    assert refused.headers["ratelimit-policy"] == "3;w=60" and int(refused.headers["ratelimit-reset"]) >= 1
    assert other_group.status_code == 200  # groups count separately


async def test_per_ip_and_per_credential(container, merchant, other_merchant):
    async with client_for(limited_app(container, "orders=2/minute")) as client:
        ip = from_ip()
        first = [(await client.post("/orders", json=ORDER, headers={**merchant.headers, **ip})).status_code
                 for _ in range(2)]
        same_ip_other_key = await client.post("/orders", json=ORDER, headers={**other_merchant.headers, **ip})
        same_key_other_ip = await client.post("/orders", json=ORDER, headers={**merchant.headers, **from_ip()})
        fresh = await client.post("/orders", json=ORDER, headers={**other_merchant.headers, **from_ip()})
    assert first == [201, 201]
    assert same_ip_other_key.status_code == 429  # the address has used its budget
    assert same_key_other_ip.status_code == 429  # so has the key
    assert fresh.status_code == 201


async def test_health_readiness_and_callbacks_are_not_limited(container):
    async with client_for(limited_app(container, "", default="1/minute")) as client:
        ip = from_ip()
        for _ in range(3):
            assert (await client.get("/health", headers=ip)).status_code == 200
            assert (await client.get("/ready", headers=ip)).status_code == 200
            callback = await client.post("/callbacks/sandbox", content=b"{}", headers=ip)
            assert callback.status_code != 429


async def test_a_burst_of_1000_refuses_the_excess_and_half_does_nothing(container, merchant, other_merchant):
    async with client_for(limited_app(container, "orders=50/minute")) as client:
        ip = from_ip()
        headers = {**merchant.headers, **ip, "Idempotency-Key": ""}

        async def create(n: int) -> httpx.Response:
            return await client.post("/orders", json={**ORDER, "merchant_reference": f"burst-{n}"},
                                     headers={**headers, "Idempotency-Key": f"burst-{n}"})

        responses = await asyncio.gather(*[create(n) for n in range(1000)])
        bystander = await client.post("/orders", json=ORDER, headers={**other_merchant.headers, **from_ip()})
    statuses = [response.status_code for response in responses]
    assert statuses.count(201) == 50 and statuses.count(429) == 950
    assert await orders_of(container, merchant.id) == 50  # nothing refused was written
    async with container.engine.transaction() as tx:
        keys = await tx.connection.fetchval(
            "SELECT count(*) FROM idempotency_keys WHERE merchant_id = $1", uuid.UUID(merchant.id))
    assert keys == 50  # no refused request claimed its idempotency key
    assert bystander.status_code == 201


def test_forwarded_for_is_believed_only_from_trusted_proxies():
    scope = {"client": ("10.0.0.5", 1234), "headers": [(b"x-forwarded-for", b"203.0.113.9, 10.0.0.7")]}
    assert ClientAddress().of(scope) == "10.0.0.5"  # the default: the header is ignored
    assert ClientAddress("10.0.0.0/8").of(scope) == "203.0.113.9"  # nearest untrusted hop
    assert ClientAddress("192.168.0.0/16").of(scope) == "10.0.0.5"  # peer not a trusted proxy
    with pytest.raises(ValueError):
        ClientAddress("10.0.0.0/33")


@pytest.mark.parametrize(("path", "group"), [("/orders/1", "orders"), ("/order/create", "orders"),
                                             ("/payments", "payments"), ("/callbacks/stripe", "callbacks"),
                                             ("/payment/callback", "callbacks"), ("/ready", "health"),
                                             ("/events", "api")])
def test_route_groups(path, group):
    assert route_group(path) == group

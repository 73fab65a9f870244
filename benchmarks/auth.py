"""Users: login throughput (slow on purpose: each login is one Argon2id verification at
the configured cost) and what JWT authentication costs next to an API key on the same
read, GET /orders/{id} (the API key is resolved from an in-process cache; a JWT is
verified (HS256) and its session looked up in Redis's revocation list on every request).

On demand: `make bench BENCH_ARGS="--scenarios auth"` runs orders.get (API key),
auth.orders_get_jwt and auth.login in one run and prints the ratios."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from benchmarks.scenarios import JSON, Request, Scenario, SetupContext, _create_orders, register

PASSWORD = "Benchmark-Passphrase-2026"


def argon2_cost() -> str:
    from config.settings import settings_from_env

    a = settings_from_env().auth
    return f"argon2id t={a.argon2_time_cost} m={a.argon2_memory_kib}KiB p={a.argon2_parallelism}"


async def _staff(setup: SetupContext) -> dict[str, Any]:
    """A staff user of the benchmark's merchant (made with its API key), logged in once."""
    email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
    created = await setup.client.post("/staff", json={"email": email, "password": PASSWORD})
    created.raise_for_status()
    merchant_id = created.json()["merchant_id"]
    login = await setup.client.post("/auth/login", json={"email": email, "password": PASSWORD,
                                                         "merchant_id": merchant_id}, headers={"Authorization": ""})
    login.raise_for_status()
    return {"login_body": msgspec.json.encode({"email": email, "password": PASSWORD,
                                               "merchant_id": merchant_id}).decode(),
            "access_token": login.json()["access_token"]}


async def _login_setup(setup: SetupContext) -> dict[str, Any]:
    return await _staff(setup)


def _login(ctx: dict[str, Any], n: int) -> Request:
    return Request("POST", "/auth/login", dict(JSON), ctx["login_body"].encode())


register(Scenario(
    "auth.login", f"POST /auth/login ({argon2_cost()})", "api", _login, setup=_login_setup, on_demand=True,
    description="log in one staff user again and again: one Argon2id verification + a refresh token per request",
))


async def _orders_jwt_setup(setup: SetupContext) -> dict[str, Any]:
    return {"order_ids": await _create_orders(setup), **await _staff(setup)}


def _order_get_jwt(ctx: dict[str, Any], n: int) -> Request:
    ids = ctx["order_ids"]
    return Request("GET", f"/orders/{ids[n % len(ids)]}", {"Authorization": f"Bearer {ctx['access_token']}"})


register(Scenario(
    "auth.orders_get_jwt", "GET /orders/{id} (JWT)", "api", _order_get_jwt, setup=_orders_jwt_setup,
    on_demand=True, versus="orders.get",
    description="orders.get with a staff user's access JWT instead of the merchant's API key",
))

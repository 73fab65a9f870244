"""Helpers shared by the sandbox tests: request builders and polling."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.adapters.providers.sandbox import SandboxSettings

SECRET = "whsec_test_sandbox"
API_KEY = "sbx_key_test"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
CALLBACK_URL = "http://fusionxpay.test/callbacks/sandbox"
GATEWAY_URL = "http://sandbox.test"
NEXT_YEAR = date.today().year + 1

SUCCESS_CARD = "4242424242424242"
TIMEOUT_CARD = "4000000000000101"
NO_CALLBACK_CARD = "4000000000000200"
DUPLICATE_CALLBACK_CARD = "4000000000000309"
OUT_OF_ORDER_CARD = "4000000000000408"
DECLINE_CARDS = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000119": "processing_error",
}


def card(number: str) -> dict[str, Any]:
    return {"number": number, "exp_month": 12, "exp_year": NEXT_YEAR, "cvc": "123"}


def payment_body(number: str = SUCCESS_CARD, key: str = "key-1", **extra: Any) -> dict[str, Any]:
    return {"amount": 1250, "currency": "USD", "card": card(number), "idempotency_key": key,
            "callback_url": CALLBACK_URL, "metadata": {"attempt_id": key}, **extra}


def sandbox_settings(**overrides: Any) -> SandboxSettings:
    fields = {"base_url": GATEWAY_URL, "callback_secret": SECRET, "callback_url": CALLBACK_URL,
              "api_key": API_KEY, **overrides}
    return SandboxSettings(**fields)


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 3.0) -> None:
    """Poll an async condition until it holds; fail the test on timeout."""
    async with asyncio.timeout(timeout_s):
        while not await check():
            await asyncio.sleep(0.005)


async def settled_payment(client: AsyncTestClient[Litestar], payment_id: str) -> dict[str, Any]:
    """The payment once it has left `pending`."""
    latest: dict[str, Any] = {}

    async def is_settled() -> bool:
        latest.update((await client.get(f"/v1/payments/{payment_id}")).json())
        return latest["status"] != "pending"

    await eventually(is_settled)
    return latest


async def succeeded_payment_id(client: AsyncTestClient[Litestar], key: str = "paid-1", amount: int = 1250) -> str:
    response = await client.post("/v1/payments", json=payment_body(key=key, amount=amount))
    payment = await settled_payment(client, response.json()["id"])
    assert payment["status"] == "succeeded"
    return str(payment["id"])

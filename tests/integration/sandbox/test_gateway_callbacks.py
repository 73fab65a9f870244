"""Callback signing, bounded retries with backoff, the delivery log and test-support endpoints."""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from sandbox_gateway import GatewaySettings, create_app
from sandbox_gateway.signing import compute_signature
from tests.integration.sandbox.callback_receiver import CallbackReceiver
from tests.integration.sandbox.support import API_KEY, AUTH, SECRET, payment_body, sandbox_settings, succeeded_payment_id

Client = AsyncTestClient[Litestar]


async def test_callbacks_are_signed_over_timestamp_and_body(gateway: Client, receiver: CallbackReceiver) -> None:
    await gateway.post("/v1/payments", json=payment_body())

    [request] = await receiver.wait_for(1)

    timestamp = request.headers["X-Sandbox-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 5
    assert request.headers["X-Sandbox-Signature"] == compute_signature(SECRET, timestamp, request.content)
    assert request.headers["X-Sandbox-Signature"].startswith("v1=")
    assert request.headers["Content-Type"] == "application/json"


async def test_failed_deliveries_are_retried_with_the_same_event(gateway: Client, receiver: CallbackReceiver) -> None:
    receiver.script = [500, "unreachable"]  # then 200

    await gateway.post("/v1/payments", json=payment_body())
    await receiver.wait_for(3)

    assert len({request.content for request in receiver.requests}) == 1
    deliveries = (await gateway.get("/_sandbox/callbacks")).json()["data"]
    assert [(d["attempt"], d["status_code"], d["ok"]) for d in deliveries] == [(1, 500, False), (2, None, False),
                                                                                (3, 200, True)]
    assert deliveries[1]["error"].startswith("ConnectError")


async def test_retries_are_bounded_and_back_off(receiver: CallbackReceiver) -> None:
    settings = GatewaySettings(callback_secret=SECRET, api_key=API_KEY, callback_delay_s=0.01,
                               callback_max_attempts=4, callback_backoff_s=0.04)
    receiver.script = ["unreachable"] * 10
    async with AsyncTestClient(create_app(settings, callback_transport=receiver.transport)) as gateway:
        gateway.headers.update(AUTH)
        await gateway.post("/v1/payments", json=payment_body())
        await receiver.wait_for(4)
        await asyncio.sleep(0.4)  # longer than another backoff step: a fifth attempt would have happened
        deliveries = (await gateway.get("/_sandbox/callbacks")).json()["data"]

    assert [d["attempt"] for d in deliveries] == [1, 2, 3, 4] and not any(d["ok"] for d in deliveries)
    gaps = [later["delivered_at"] - earlier["delivered_at"] for earlier, later in zip(deliveries, deliveries[1:])]
    assert gaps[0] >= 0.035 and gaps[1] >= 0.075 and gaps[2] >= 0.155  # 0.04, 0.08, 0.16


async def test_reset_forgets_everything(gateway: Client, receiver: CallbackReceiver) -> None:
    await succeeded_payment_id(gateway)
    await receiver.wait_for(1)

    assert (await gateway.post("/_sandbox/reset")).json() == {"reset": True}

    assert (await gateway.get("/_sandbox/charges")).json() == {"data": []}
    assert (await gateway.get("/_sandbox/callbacks")).json() == {"data": []}
    assert (await gateway.get("/v1/payments", params={"idempotency_key": "paid-1"})).status_code == 404


async def test_health(gateway: Client) -> None:
    assert (await gateway.get("/health")).json() == {"status": "ok"}


def test_settings_come_from_the_environment() -> None:
    settings = GatewaySettings.from_env({"SANDBOX_CALLBACK_SECRET": "s3cret", "SANDBOX_CALLBACK_DELAY_S": "0.05",
                                         "SANDBOX_TIMEOUT_HOLD_S": "2", "SANDBOX_CALLBACK_MAX_ATTEMPTS": "6"})

    assert (settings.callback_secret, settings.callback_delay_s, settings.timeout_hold_s) == ("s3cret", 0.05, 2.0)
    assert settings.callback_max_attempts == 6
    assert GatewaySettings.from_env({}) == GatewaySettings()
    assert (GatewaySettings().callback_delay_s, GatewaySettings().timeout_hold_s) == (0.2, 30.0)


def test_settings_never_show_the_secret() -> None:
    assert "s3cret" not in repr(GatewaySettings(callback_secret="s3cret"))
    assert "s3cret" not in repr(sandbox_settings(callback_secret="s3cret"))


def test_unreadable_environment_settings_are_rejected() -> None:
    with pytest.raises(msgspec.ValidationError, match="callback_delay_s"):
        GatewaySettings.from_env({"SANDBOX_CALLBACK_DELAY_S": "soon"})

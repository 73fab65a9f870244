"""The same idempotency key never charges twice, even when the repeats race."""

from __future__ import annotations

import asyncio

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.sandbox.callback_receiver import CallbackReceiver
from tests.integration.sandbox.support import TIMEOUT_CARD, payment_body, settled_payment

Client = AsyncTestClient[Litestar]


async def test_fifty_concurrent_identical_purchases_make_one_charge(
        same_loop_gateway: httpx.AsyncClient, receiver: CallbackReceiver) -> None:
    # Same event loop as the app, so the 50 requests really interleave inside it.
    responses = await asyncio.gather(*(same_loop_gateway.post("/v1/payments", json=payment_body(key="race"))
                                       for _ in range(50)))

    assert len({response.json()["id"] for response in responses}) == 1
    assert sorted(response.status_code for response in responses) == [200] * 49 + [201]
    assert sum(response.headers.get("Idempotent-Replayed") == "true" for response in responses) == 49
    await receiver.wait_for(1)
    await asyncio.sleep(0.05)  # room for any second charge or callback to show up
    [row] = (await same_loop_gateway.get("/_sandbox/charges")).json()["data"]
    assert (row["requests"], row["charges"], row["status"]) == (50, 1, "succeeded")
    assert len(receiver.requests) == 1


async def test_fifty_concurrent_purchases_of_a_held_timeout_card_make_one_charge(
        same_loop_gateway: httpx.AsyncClient) -> None:
    """The first request is still being held when the 49 repeats arrive."""
    body = payment_body(TIMEOUT_CARD, key="held")
    responses = await asyncio.gather(*(same_loop_gateway.post("/v1/payments", json=body) for _ in range(50)))

    assert len({response.json()["id"] for response in responses}) == 1
    await asyncio.sleep(0.05)
    [row] = (await same_loop_gateway.get("/_sandbox/charges")).json()["data"]
    assert (row["requests"], row["charges"]) == (50, 1)


async def test_serial_repeats_through_the_test_client_are_replays(gateway: Client) -> None:
    responses = [await gateway.post("/v1/payments", json=payment_body(key="again")) for _ in range(5)]

    assert [r.status_code for r in responses] == [201, 200, 200, 200, 200]
    assert len({r.json()["id"] for r in responses}) == 1
    await settled_payment(gateway, responses[0].json()["id"])
    [row] = (await gateway.get("/_sandbox/charges")).json()["data"]
    assert (row["requests"], row["charges"]) == (5, 1)


async def test_the_key_is_also_accepted_as_a_header(gateway: Client) -> None:
    body = payment_body(key="unused")
    del body["idempotency_key"]

    first = await gateway.post("/v1/payments", json=body, headers={"Idempotency-Key": "hdr-1"})
    repeat = await gateway.post("/v1/payments", json={**body, "idempotency_key": "hdr-1"})

    assert first.status_code == 201 and first.json()["idempotency_key"] == "hdr-1"
    assert repeat.status_code == 200 and repeat.json()["id"] == first.json()["id"]


async def test_a_key_is_required_and_must_agree_with_the_header(gateway: Client) -> None:
    body = payment_body()
    del body["idempotency_key"]

    missing = await gateway.post("/v1/payments", json=body)
    disagreeing = await gateway.post("/v1/payments", json=payment_body(key="a"), headers={"Idempotency-Key": "b"})

    assert missing.status_code == disagreeing.status_code == 400
    assert (await gateway.get("/_sandbox/charges")).json()["data"] == []


async def test_reusing_a_key_for_a_different_payment_is_refused(gateway: Client) -> None:
    first = await gateway.post("/v1/payments", json=payment_body(key="reused"))
    other = await gateway.post("/v1/payments", json=payment_body(key="reused", amount=999))

    assert first.status_code == 201
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    [row] = (await gateway.get("/_sandbox/charges")).json()["data"]
    assert row["requests"] == 1


async def test_only_the_key_holder_may_use_the_api(gateway_app: Litestar) -> None:
    async with AsyncTestClient(gateway_app) as anonymous:
        assert (await anonymous.post("/v1/payments", json=payment_body(key="anon"))).status_code == 401
        wrong = {"Authorization": "Bearer not-the-key"}
        response = await anonymous.post("/v1/payments", json=payment_body(key="anon"), headers=wrong)
        assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")
        assert (await anonymous.get("/_sandbox/charges")).status_code == 401
        assert (await anonymous.get("/health")).status_code == 200
    assert gateway_app.state.gateway.ledger.payments == {}  # nothing was created


async def test_a_key_is_bound_to_its_metadata(gateway: AsyncTestClient[Litestar]) -> None:
    first = await gateway.post("/v1/payments", json=payment_body(key="bound", metadata={"attempt_id": "a"}))
    assert first.status_code == 201
    replay = await gateway.post("/v1/payments", json=payment_body(key="bound", metadata={"attempt_id": "b"}))
    assert (replay.status_code, replay.json()["error"]["code"]) == (422, "idempotency_key_reused")
    same = await gateway.post("/v1/payments", json=payment_body(key="bound", metadata={"attempt_id": "a"}))
    assert (same.status_code, same.json()["id"]) == (200, first.json()["id"])

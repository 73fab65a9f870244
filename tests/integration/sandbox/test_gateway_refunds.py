"""Refunds: accepted pending, settled by a signed callback, idempotent, bounded by the payment."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.sandbox.callback_receiver import CallbackReceiver
from tests.integration.sandbox.support import (CALLBACK_URL, NO_CALLBACK_CARD, payment_body, settled_payment,
                                               succeeded_payment_id)

Client = AsyncTestClient[Litestar]


def refund_body(payment_id: str, key: str = "refund-1", amount: int | None = 1250) -> dict[str, object]:
    return {"payment_id": payment_id, "amount": amount, "idempotency_key": key, "callback_url": CALLBACK_URL,
            "metadata": {"refund_id": key}}


async def test_refund_is_pending_then_succeeds_with_a_callback(gateway: Client, receiver: CallbackReceiver) -> None:
    payment_id = await succeeded_payment_id(gateway)

    response = await gateway.post("/v1/refunds", json=refund_body(payment_id))

    assert response.status_code == 201
    refund = response.json()
    assert refund["id"].startswith("sbx_re_") and refund["status"] == "pending" and refund["amount"] == 1250
    await receiver.wait_for(2)  # payment.succeeded, then refund.succeeded
    event = receiver.events()[1]
    assert event["type"] == "refund.succeeded" and event["data"]["id"] == refund["id"]
    assert event["data"]["payment_id"] == payment_id and event["data"]["metadata"] == {"refund_id": "refund-1"}
    assert (await gateway.get(f"/v1/refunds/{refund['id']}")).json()["status"] == "succeeded"
    assert (await gateway.get(f"/v1/payments/{payment_id}")).json()["amount_refunded"] == 1250


async def test_a_repeated_refund_key_returns_the_first_refund_and_reserves_once(gateway: Client) -> None:
    payment_id = await succeeded_payment_id(gateway)

    first = await gateway.post("/v1/refunds", json=refund_body(payment_id, "r-1", amount=500))
    repeat = await gateway.post("/v1/refunds", json=refund_body(payment_id, "r-1", amount=500))
    rest = await gateway.post("/v1/refunds", json=refund_body(payment_id, "r-2", amount=750))

    assert (first.status_code, repeat.status_code, rest.status_code) == (201, 200, 201)
    assert repeat.json()["id"] == first.json()["id"]


async def test_concurrent_refunds_never_exceed_the_payment(
        same_loop_gateway: httpx.AsyncClient, receiver: CallbackReceiver) -> None:
    created = (await same_loop_gateway.post("/v1/payments", json=payment_body(NO_CALLBACK_CARD, key="p"))).json()
    await asyncio.sleep(0.05)
    assert (await same_loop_gateway.get(f"/v1/payments/{created['id']}")).json()["status"] == "succeeded"

    answers = await asyncio.gather(*(same_loop_gateway.post("/v1/refunds", json=refund_body(
        created["id"], f"r-{i}", amount=300)) for i in range(10)))

    assert sorted(a.status_code for a in answers) == [201] * 4 + [422] * 6  # 4 x 300 <= 1250 < 5 x 300


async def test_refund_without_amount_refunds_what_remains(gateway: Client) -> None:
    payment_id = await succeeded_payment_id(gateway)
    await gateway.post("/v1/refunds", json=refund_body(payment_id, "part", amount=250))

    rest = await gateway.post("/v1/refunds", json=refund_body(payment_id, "rest", amount=None))

    assert rest.status_code == 201 and rest.json()["amount"] == 1000


async def test_refund_above_the_refundable_amount_is_refused(gateway: Client) -> None:
    payment_id = await succeeded_payment_id(gateway)
    await gateway.post("/v1/refunds", json=refund_body(payment_id, "most", amount=1000))

    too_much = await gateway.post("/v1/refunds", json=refund_body(payment_id, "more", amount=251))

    assert too_much.status_code == 422 and too_much.json()["error"]["code"] == "amount_exceeds_refundable"


async def test_refund_of_an_unknown_payment_is_404(gateway: Client) -> None:
    response = await gateway.post("/v1/refunds", json=refund_body("sbx_pay_missing"))

    assert response.status_code == 404 and response.json()["error"]["code"] == "payment_not_found"


@pytest.mark.parametrize("settle_first", [False, True], ids=["pending", "failed"])
async def test_refund_of_a_payment_that_did_not_succeed_is_409(gateway: Client, settle_first: bool) -> None:
    created = (await gateway.post("/v1/payments", json=payment_body("4000000000000002", key="declined"))).json()
    if settle_first:
        assert (await settled_payment(gateway, created["id"]))["status"] == "failed"

    response = await gateway.post("/v1/refunds", json=refund_body(created["id"]))

    assert response.status_code == 409 and response.json()["error"]["code"] == "payment_not_succeeded"


async def test_refund_needs_an_idempotency_key(gateway: Client) -> None:
    payment_id = await succeeded_payment_id(gateway)
    body = refund_body(payment_id)
    del body["idempotency_key"]

    assert (await gateway.post("/v1/refunds", json=body)).status_code == 400
    assert (await gateway.post("/v1/refunds", json=body, headers={"Idempotency-Key": "h"})).status_code == 201

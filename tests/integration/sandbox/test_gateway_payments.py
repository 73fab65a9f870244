"""The sandbox gateway's payments: every test card's outcome, callbacks and lookups."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.sandbox.callback_receiver import CallbackReceiver
from tests.integration.sandbox.support import (DECLINE_CARDS, DUPLICATE_CALLBACK_CARD, NO_CALLBACK_CARD,
                                               OUT_OF_ORDER_CARD, SUCCESS_CARD, TIMEOUT_CARD, card, payment_body,
                                               settled_payment)

Client = AsyncTestClient[Litestar]


async def charges_by_key(gateway: Client) -> dict[str, dict[str, object]]:
    return {row["idempotency_key"]: row for row in (await gateway.get("/_sandbox/charges")).json()["data"]}


async def test_success_card_answers_pending_at_once_then_succeeds_and_calls_back(
        gateway: Client, receiver: CallbackReceiver) -> None:
    response = await gateway.post("/v1/payments", json=payment_body(SUCCESS_CARD, key="ok-1"))

    assert response.status_code == 201
    created = response.json()
    assert created["id"].startswith("sbx_pay_") and created["status"] == "pending"
    assert created["payment_method"] == {"type": "card", "brand": "visa", "last4": "4242"}
    assert (await settled_payment(gateway, created["id"]))["status"] == "succeeded"
    await receiver.wait_for(1)
    [event] = receiver.events()
    assert event["id"].startswith("evt_") and event["type"] == "payment.succeeded"
    assert isinstance(event["created"], int)
    assert event["data"]["id"] == created["id"] and event["data"]["idempotency_key"] == "ok-1"
    assert event["data"]["status"] == "succeeded" and event["data"]["metadata"] == {"attempt_id": "ok-1"}
    assert (event["data"]["amount"], event["data"]["currency"]) == (1250, "USD")
    assert (await charges_by_key(gateway))["ok-1"]["charges"] == 1


@pytest.mark.parametrize(("number", "code"), DECLINE_CARDS.items())
async def test_declining_cards_fail_with_their_code_and_charge_nothing(
        gateway: Client, receiver: CallbackReceiver, number: str, code: str) -> None:
    created = (await gateway.post("/v1/payments", json=payment_body(number, key=code))).json()

    payment = await settled_payment(gateway, created["id"])

    assert payment["status"] == "failed" and payment["failure_code"] == code and payment["failure_message"]
    await receiver.wait_for(1)
    assert receiver.events()[0]["type"] == "payment.failed"
    assert receiver.events()[0]["data"]["failure_code"] == code
    assert (await charges_by_key(gateway))[code]["charges"] == 0


@pytest.mark.parametrize(("method", "expected"), [
    ({"card": card("5555555555554444")}, "succeeded"),  # any other valid card
    ({"token": "tok_visa_abc123"}, "succeeded"),  # any token
    ({"token": "tok_card_declined"}, "failed"),  # scenario token
    ({"card": {**card(SUCCESS_CARD), "exp_year": 2020}}, "failed"),  # a past expiry date
])
async def test_other_cards_and_tokens(gateway: Client, method: dict[str, object], expected: str) -> None:
    body = {"amount": 500, "currency": "EUR", "idempotency_key": "other", **method}
    created = (await gateway.post("/v1/payments", json=body)).json()

    assert (await settled_payment(gateway, created["id"]))["status"] == expected


async def test_timeout_card_holds_the_answer_but_charges_and_calls_back(
        gateway: Client, receiver: CallbackReceiver) -> None:
    started = time.monotonic()
    response = await gateway.post("/v1/payments", json=payment_body(TIMEOUT_CARD, key="slow"))
    held_for = time.monotonic() - started

    assert held_for >= 0.3  # gateway_settings.timeout_hold_s
    assert response.status_code == 201 and response.json()["status"] == "succeeded"
    assert len(receiver.requests) == 1  # the callback came while the answer was still held
    started = time.monotonic()
    repeat = await gateway.post("/v1/payments", json=payment_body(TIMEOUT_CARD, key="slow"))
    assert time.monotonic() - started < 0.2 and repeat.json()["id"] == response.json()["id"]
    row = (await charges_by_key(gateway))["slow"]
    assert (row["requests"], row["charges"]) == (2, 1)


async def test_timeout_card_charges_even_when_the_client_gives_up(
        same_loop_gateway: httpx.AsyncClient, receiver: CallbackReceiver) -> None:
    request = same_loop_gateway.post("/v1/payments", json=payment_body(TIMEOUT_CARD, key="gave-up"))
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(request, 0.05)

    await receiver.wait_for(1)
    assert receiver.events()[0]["type"] == "payment.succeeded"
    found = await same_loop_gateway.get("/v1/payments", params={"idempotency_key": "gave-up"})
    assert found.json()["status"] == "succeeded"
    charges = (await same_loop_gateway.get("/_sandbox/charges")).json()["data"]
    assert [(row["idempotency_key"], row["charges"]) for row in charges] == [("gave-up", 1)]


async def test_no_callback_card_succeeds_silently(gateway: Client, receiver: CallbackReceiver) -> None:
    created = (await gateway.post("/v1/payments", json=payment_body(NO_CALLBACK_CARD, key="quiet"))).json()

    assert (await settled_payment(gateway, created["id"]))["status"] == "succeeded"
    await asyncio.sleep(0.1)
    assert receiver.requests == []
    assert (await gateway.get("/_sandbox/callbacks")).json()["data"] == []


async def test_duplicate_callback_card_delivers_the_same_event_twice(
        gateway: Client, receiver: CallbackReceiver) -> None:
    await gateway.post("/v1/payments", json=payment_body(DUPLICATE_CALLBACK_CARD, key="twice"))

    first, second = await receiver.wait_for(2)

    assert first.content == second.content  # same event id, same body
    assert receiver.events()[0]["type"] == "payment.succeeded"
    deliveries = (await gateway.get("/_sandbox/callbacks")).json()["data"]
    assert [d["event_id"] for d in deliveries] == [receiver.events()[0]["id"]] * 2
    assert (await charges_by_key(gateway))["twice"]["charges"] == 1


async def test_out_of_order_card_sends_a_stale_processing_event_after_the_final_one(
        gateway: Client, receiver: CallbackReceiver) -> None:
    await gateway.post("/v1/payments", json=payment_body(OUT_OF_ORDER_CARD, key="jumbled"))

    await receiver.wait_for(2)
    final, stale = receiver.events()

    assert final["type"] == "payment.succeeded" and stale["type"] == "payment.processing"
    assert stale["id"] != final["id"] and stale["created"] < final["created"]
    assert stale["data"]["status"] == "pending" and stale["data"]["id"] == final["data"]["id"]


async def test_lookup_by_id_and_by_idempotency_key(gateway: Client) -> None:
    created = (await gateway.post("/v1/payments", json=payment_body(key="find-me"))).json()

    by_id = await gateway.get(f"/v1/payments/{created['id']}")
    by_key = await gateway.get("/v1/payments", params={"idempotency_key": "find-me"})

    assert by_id.json()["id"] == by_key.json()["id"] == created["id"]
    unknown_id = await gateway.get("/v1/payments/sbx_pay_nope")
    unknown_key = await gateway.get("/v1/payments", params={"idempotency_key": "never-sent"})
    assert unknown_id.status_code == unknown_key.status_code == 404
    assert unknown_key.json()["error"]["code"] == "payment_not_found"
    assert (await gateway.get("/v1/payments")).status_code == 400


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"card": card("4242424242424241")}, 422, "incorrect_number"),  # fails Luhn
    ({"card": None, "token": None}, 400, "invalid_request"),
    ({"token": "tok_x"}, 400, "invalid_request"),  # card and token together
    ({"card": None, "token": "card_123"}, 422, "invalid_token"),
    ({"amount": 0}, 400, "invalid_request"),
    ({"currency": "US"}, 400, "invalid_request"),
    ({"card": {**card(SUCCESS_CARD), "cvc": "12"}}, 400, "invalid_request"),
])
async def test_invalid_requests_get_a_json_error(gateway: Client, change: dict[str, object], status: int,
                                                 code: str) -> None:
    response = await gateway.post("/v1/payments", json={**payment_body(key="bad"), **change})

    assert response.status_code == status and response.json()["error"]["code"] == code
    assert "4242424242424241" not in response.text


async def test_no_full_card_number_or_cvc_leaves_the_gateway(
        gateway: Client, receiver: CallbackReceiver, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    numbers = [SUCCESS_CARD, *DECLINE_CARDS, DUPLICATE_CALLBACK_CARD]
    answers = [(await gateway.post("/v1/payments", json=payment_body(n, key=f"leak-{i}"))).text
               for i, n in enumerate(numbers)]
    await receiver.wait_for(len(numbers) + 1)
    answers += [(await gateway.get("/_sandbox/charges")).text, (await gateway.get("/_sandbox/callbacks")).text]
    answers += [request.content.decode() for request in receiver.requests]

    everything = "\n".join([*answers, caplog.text])
    leaks = [line for line in everything.splitlines() if any(n in line for n in numbers)]
    assert leaks == []
    assert '"cvc"' not in everything and "'cvc'" not in everything

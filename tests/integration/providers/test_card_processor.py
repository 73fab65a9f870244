"""Contract tests of CardProcessorProvider against the API its module docstring defines."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest
import respx

from app.adapters.providers.card_processor import CardProcessorProvider, CardProcessorSettings
from app.adapters.providers.errors import ProviderConnectError, ProviderRateLimited, ProviderServerError, ProviderTimeout
from app.domain.errors import InvalidCallback, MalformedCallback
from app.domain.model.card import CardToken
from app.domain.model.money import Money
from app.domain.model.provider import CallbackKind, Outcome
from app.domain.model.verdict import MismatchReason, VerdictSource
from tests.integration.providers import mismatch_cases as cases
from tests.integration.providers.builders import (
    ATTEMPT_ID, ORDER_ID, REFUND_ID, card, json_of, payment_request, refund_request,
)

BASE = "https://api.card-processor.test"
API_KEY = "cp_live_key_that_must_never_be_logged"
WEBHOOK_SECRET = "cpwh_signing_secret"
SETTINGS = CardProcessorSettings(api_key=API_KEY, webhook_secrets=["cpwh_old", WEBHOOK_SECRET], api_base=BASE,
                                 timeout_s=0.5)
AUTH_ID = "auth_8f3kq2LmZx"
AMOUNT = Money(2000, "USD")

# What the processor answers for the sandbox's test cards (module docstring).
TEST_CARD_CODES = {
    "4242424242424242": ("approved", "00", "Approved"),
    "4000000000000002": ("declined", "05", "Do not honour"),
    "4000000000009995": ("declined", "51", "Insufficient funds"),
    "4000000000000069": ("declined", "54", "Expired card"),
    "4000000000000119": ("declined", "96", "System malfunction"),
}


def authorization(status: str = "approved", code: str = "00", message: str = "Approved", **fields) -> dict:
    return {"id": AUTH_ID, "object": "authorization", "reference": str(ATTEMPT_ID),
            "order_reference": str(ORDER_ID), "status": status, "response_code": code,
            "response_message": message, "authorization_code": "A1B2C3" if code == "00" else None,
            "captured": status == "approved", "amount": {"value": 2000, "currency": "USD"},
            "card": {"brand": "visa", "last4": "4242"}, "created": 1715594400, **fields}


def processor(request: httpx.Request) -> httpx.Response:
    number = json_of(request)["card"].get("number", "4242424242424242")
    status, code, message = TEST_CARD_CODES[number]
    return httpx.Response(201, json=authorization(status, code, message))


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def card_processor(http_client):
    return CardProcessorProvider(SETTINGS, http_client)


async def test_purchase_request_shape_with_a_vault_token(api, card_processor):
    route = api.post("/v1/authorizations").respond(201, json=authorization())
    result = await card_processor.purchase(payment_request(CardToken("tok_vault_4f9a", "visa", "4242"),
                                                           1999, "EUR", description="Order 42"))
    assert (result.outcome, result.provider_reference) == (Outcome.SUCCEEDED, AUTH_ID)
    sent = route.calls.last.request
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["idempotency-key"] == str(ATTEMPT_ID)
    assert json_of(sent) == {"reference": str(ATTEMPT_ID), "order_reference": str(ORDER_ID), "capture": True,
                             "amount": {"value": 1999, "currency": "EUR"}, "card": {"token": "tok_vault_4f9a"},
                             "description": "Order 42"}


@pytest.mark.parametrize(("number", "outcome", "code"), [
    ("4242424242424242", Outcome.SUCCEEDED, None),
    ("4000000000000002", Outcome.FAILED, "card_declined"),
    ("4000000000009995", Outcome.FAILED, "insufficient_funds"),
    ("4000000000000069", Outcome.FAILED, "expired_card"),
    ("4000000000000119", Outcome.FAILED, "processing_error"),
])
async def test_sandbox_test_cards_in_test_mode(api, card_processor, number, outcome, code):
    route = api.post("/v1/authorizations").mock(side_effect=processor)
    result = await card_processor.purchase(payment_request(card(number)))
    assert (result.outcome, result.failure_code) == (outcome, code)
    assert json_of(route.calls.last.request)["card"] == {"number": number, "exp_month": 12, "exp_year": 2034,
                                                          "cvc": "123"}


@pytest.mark.parametrize(("code", "ours"), [
    ("05", "card_declined"), ("51", "insufficient_funds"), ("54", "expired_card"), ("82", "invalid_cvc"),
    ("N7", "invalid_cvc"), ("14", "incorrect_number"), ("41", "lost_or_stolen"), ("43", "lost_or_stolen"),
    ("59", "fraud_blocked"), ("1A", "authentication_required"), ("91", "processing_error"),
    ("96", "processing_error"), ("77", "card_declined"),
])
async def test_iso_8583_response_codes(api, card_processor, code, ours):
    api.post("/v1/authorizations").respond(200, json=authorization("declined", code, "Declined"))
    result = await card_processor.purchase(payment_request())
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, ours)
    assert result.failure_message == f"{code}: Declined"


async def test_pending_validation_and_live_mode(api, card_processor, http_client):
    route = api.post("/v1/authorizations").respond(201, json=authorization("pending", "09", "Request in progress"))
    assert (await card_processor.purchase(payment_request())).outcome is Outcome.PENDING
    route.respond(422, json={"error": {"code": "invalid_request", "message": "amount.currency is not supported",
                                       "field": "amount.currency"}})
    refused = await card_processor.purchase(payment_request())
    assert (refused.outcome, refused.failure_code, refused.failure_message) == (
        Outcome.FAILED, "invalid_request", "amount.currency is not supported")
    live = CardProcessorProvider(CardProcessorSettings(api_key="k", api_base=BASE, mode="live"), http_client)
    calls = route.call_count
    assert (await live.purchase(payment_request(card()))).failure_code == "invalid_request"
    assert (await live.purchase(payment_request(None))).failure_code == "invalid_request"
    assert route.call_count == calls


async def test_transport_failures_never_carry_the_card_or_key(api, card_processor):
    route = api.post("/v1/authorizations")
    for effect, expected in [(httpx.Response(502, text="Bad Gateway"), ProviderServerError),
                             (httpx.ReadTimeout("timed out"), ProviderTimeout),
                             (httpx.ConnectError("refused"), ProviderConnectError),
                             (httpx.Response(201, content=b"\x00\x01"), ProviderServerError),
                             (httpx.Response(429, headers={"Retry-After": "1"}), ProviderRateLimited)]:
        route.mock(side_effect=[effect])
        with pytest.raises(expected) as raised:
            await card_processor.purchase(payment_request(card("4000000000009995")))
        text = f"{raised.value!s} {raised.value!r}"
        assert "4000000000009995" not in text and API_KEY not in text


async def test_refund_request_shape_and_outcomes(api, card_processor):
    refund = {"id": "rf_2Hq9", "object": "refund", "authorization_id": AUTH_ID, "reference": str(REFUND_ID),
              "status": "succeeded", "response_code": "00", "amount": {"value": 2000, "currency": "USD"}}
    route = api.post("/v1/refunds").respond(201, json=refund)
    result = await card_processor.refund(refund_request(AUTH_ID))
    assert (result.outcome, result.provider_reference) == (Outcome.SUCCEEDED, "rf_2Hq9")
    assert route.calls.last.request.headers["idempotency-key"] == str(REFUND_ID)
    assert json_of(route.calls.last.request) == {"authorization_id": AUTH_ID, "reference": str(REFUND_ID),
                                                 "payment_reference": str(ATTEMPT_ID),
                                                 "amount": {"value": 2000, "currency": "USD"}}
    route.respond(201, json={**refund, "status": "failed", "response_code": "12", "response_message": "Invalid"})
    assert (await card_processor.refund(refund_request(AUTH_ID))).outcome is Outcome.FAILED
    assert (await card_processor.refund(refund_request(None))).outcome is Outcome.FAILED


async def test_get_status_by_id_and_by_reference(api, card_processor):
    api.get(f"/v1/authorizations/{AUTH_ID}").respond(200, json=authorization())
    assert (await card_processor.get_status(ATTEMPT_ID, AUTH_ID)).outcome is Outcome.SUCCEEDED
    listing = api.get("/v1/authorizations").respond(200, json={"object": "list", "data": [authorization(
        "declined", "51", "Insufficient funds")]})
    assert (await card_processor.get_status(ATTEMPT_ID, None, AMOUNT)).failure_code == "insufficient_funds"
    assert listing.calls.last.request.url.params["reference"] == str(ATTEMPT_ID)
    listing.respond(200, json={"object": "list", "data": []})
    never = await card_processor.get_status(ATTEMPT_ID, None, AMOUNT)
    assert (never.outcome, never.failure_code) == (Outcome.FAILED, "provider_unavailable")
    api.get("/v1/authorizations/auth_gone").respond(404, json={"error": {"code": "not_found", "message": "No such"}})
    assert (await card_processor.get_status(ATTEMPT_ID, "auth_gone")).outcome is Outcome.UNKNOWN


@pytest.mark.parametrize("stranger", [
    authorization(id="auth_other", reference=str(uuid.uuid4())),
    authorization(id="auth_other", amount={"value": 1, "currency": "USD"}),
    authorization(id="auth_other", amount={"value": 2000, "currency": "JPY"}),
])
async def test_lookup_by_reference_ignores_what_is_not_the_attempts(api, card_processor, stranger):
    listing = api.get("/v1/authorizations").respond(200, json={"object": "list", "data": [stranger]})
    result = await card_processor.get_status(ATTEMPT_ID, None, AMOUNT)
    assert (result.outcome, result.provider_reference) == (Outcome.UNKNOWN, None)  # neither paid nor "never sent"
    listing.respond(200, json={"object": "list", "data": [stranger, authorization("declined", "54", "Expired")]})
    result = await card_processor.get_status(ATTEMPT_ID, None, AMOUNT)
    assert (result.outcome, result.provider_reference, result.failure_code) == (Outcome.FAILED, AUTH_ID, "expired_card")
    assert (await card_processor.get_status(ATTEMPT_ID, None)).outcome is Outcome.UNKNOWN  # nothing to verify with


def signed(payload: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple[dict, bytes]:
    body = json.dumps(payload).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Processor-Timestamp": stamp, "X-Processor-Signature": f"sha256={digest}"}, body


def callback(event_type: str, data: dict) -> dict:
    return {"id": "evt_cp_91Ka", "type": event_type, "created": int(time.time()), "data": data}


async def test_signed_callbacks_map_to_payment_and_refund_events(card_processor):
    event = await card_processor.parse_callback(*signed(callback("authorization.approved", authorization())))
    assert (event.kind, event.attempt_id, event.result.outcome) == (CallbackKind.PAYMENT, ATTEMPT_ID,
                                                                    Outcome.SUCCEEDED)
    declined = authorization("declined", "59", "Suspected fraud")
    event = await card_processor.parse_callback(*signed(callback("authorization.declined", declined), "cpwh_old"))
    assert (event.result.outcome, event.result.failure_code) == (Outcome.FAILED, "fraud_blocked")
    refund = {"id": "rf_2Hq9", "reference": str(REFUND_ID), "payment_reference": str(ATTEMPT_ID),
              "status": "succeeded", "response_code": "00"}
    event = await card_processor.parse_callback(*signed(callback("refund.succeeded", refund)))
    assert (event.kind, event.refund_id, event.attempt_id) == (CallbackKind.REFUND, REFUND_ID, ATTEMPT_ID)
    event = await card_processor.parse_callback(*signed(callback("dispute.opened", {"id": "dp_1"})))
    assert (event.kind, event.event_type) == (CallbackKind.IGNORED, "dispute.opened")


async def test_forged_stale_and_malformed_callbacks(card_processor):
    payload = callback("authorization.approved", authorization())
    with pytest.raises(InvalidCallback) as forged:
        await card_processor.parse_callback(*signed(payload, "wrong_secret"))
    assert forged.value.code == "invalid_signature"
    headers, body = signed(payload)
    with pytest.raises(InvalidCallback):
        await card_processor.parse_callback(headers, body.replace(b"approved", b"declined"))
    with pytest.raises(InvalidCallback):
        await card_processor.parse_callback({"X-Processor-Timestamp": headers["X-Processor-Timestamp"]}, body)
    with pytest.raises(InvalidCallback) as stale:
        await card_processor.parse_callback(*signed(payload, timestamp=int(time.time()) - 400))
    assert stale.value.code == "stale_callback"
    with pytest.raises(MalformedCallback):
        await card_processor.parse_callback(*signed({"id": "evt_1", "type": "authorization.approved"}))
    stamp = str(int(time.time()))
    digest = hmac.new(WEBHOOK_SECRET.encode(), stamp.encode() + b".[1,2]", hashlib.sha256).hexdigest()
    with pytest.raises(MalformedCallback):
        await card_processor.parse_callback({"x-processor-timestamp": stamp, "x-processor-signature": digest},
                                            b"[1,2]")
    assert "api_key=***" in repr(SETTINGS) and API_KEY not in repr(SETTINGS)


# The processor echoes our references (attempt, order) but no merchant: another merchant's
# attempt shows as another order.
CARD_MISMATCHES = {
    "wrong_amount": ({"amount": {"value": 1, "currency": "USD"}}, {MismatchReason.AMOUNT}),
    "wrong_currency": ({"amount": {"value": 2000, "currency": "JPY"}}, {MismatchReason.CURRENCY}),
    "wrong_reference": ({"id": "auth_someone_elses"}, {MismatchReason.REFERENCE}),
    "other_merchants_attempt": ({"order_reference": cases.OTHER_ORDER}, {MismatchReason.ORDER}),
    "unknown_attempt": ({}, {MismatchReason.UNKNOWN_ATTEMPT}),
}


async def test_a_genuine_approval_matches(card_processor):
    event = await card_processor.parse_callback(*signed(callback("authorization.approved", authorization())))
    cases.assert_matches("card", AUTH_ID, event.result)


@pytest.mark.parametrize("case", cases.CASES)
async def test_mismatching_callbacks_and_status_answers_are_refused(api, card_processor, case):
    changes, expected = CARD_MISMATCHES[case]
    approval = authorization(**changes)
    event = await card_processor.parse_callback(*signed(callback("authorization.approved", approval)))
    assert set(cases.reasons("card", AUTH_ID, event.result, case)) == expected
    api.get(f"/v1/authorizations/{AUTH_ID}").respond(200, json=approval)
    status = await card_processor.get_status(ATTEMPT_ID, AUTH_ID)
    assert set(cases.reasons("card", AUTH_ID, status, case, VerdictSource.STATUS)) == expected

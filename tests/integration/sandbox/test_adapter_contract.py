"""SandboxProvider against a respx-mocked gateway: what it sends, and how it maps every
kind of answer (verdicts become ProviderResults, transport trouble becomes exceptions)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from app.adapters.providers.errors import (ProviderConnectError, ProviderRateLimited, ProviderServerError,
                                           ProviderTimeout)
from app.adapters.providers.sandbox import SandboxProvider
from app.domain.model.card import CardDetails, CardToken, PaymentMethod
from app.domain.model.money import Money
from app.domain.model.provider import Outcome, PaymentRequest, RefundRequest
from tests.integration.sandbox.support import CALLBACK_URL, GATEWAY_URL, NEXT_YEAR, sandbox_settings

ATTEMPT_ID = uuid.UUID("11111111-1111-4111-8111-111111111111")
ORDER_ID = uuid.UUID("22222222-2222-4222-8222-222222222222")
REFUND_ID = uuid.UUID("33333333-3333-4333-8333-333333333333")
VISA = CardDetails.parse("4242424242424242", 12, NEXT_YEAR, "123", date.today())


def purchase_request(method: PaymentMethod = VISA) -> PaymentRequest:
    return PaymentRequest(ATTEMPT_ID, ORDER_ID, uuid.uuid4(), Money.of(1999, "EUR"), method, description="2 mugs")


def refund_request(reference: str | None = "sbx_pay_1") -> RefundRequest:
    return RefundRequest(REFUND_ID, ATTEMPT_ID, reference, Money.of(500, "EUR"))


def gateway_object(status: str = "pending", **fields: Any) -> dict[str, Any]:
    return {"object": "payment", "id": "sbx_pay_1", "idempotency_key": str(ATTEMPT_ID), "status": status,
            "amount": 1999, "currency": "EUR", "failure_code": None, "failure_message": None,
            "metadata": {"attempt_id": str(ATTEMPT_ID)}, **fields}


@pytest.fixture
async def gateway_mock() -> AsyncIterator[respx.MockRouter]:
    async with respx.mock(base_url=GATEWAY_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def adapter() -> AsyncIterator[SandboxProvider]:
    async with httpx.AsyncClient() as client:
        yield SandboxProvider(sandbox_settings(timeout_s=1.5), client)


async def test_purchase_sends_the_attempt_id_as_idempotency_key_and_metadata(
        gateway_mock: respx.MockRouter, adapter: SandboxProvider) -> None:
    route = gateway_mock.post("/v1/payments").respond(201, json=gateway_object())

    result = await adapter.purchase(purchase_request())

    assert (result.outcome, result.provider_reference) == (Outcome.PENDING, "sbx_pay_1")
    sent = route.calls.last.request
    assert sent.headers["Idempotency-Key"] == str(ATTEMPT_ID)
    assert json.loads(sent.content) == {
        "amount": 1999, "currency": "EUR", "idempotency_key": str(ATTEMPT_ID), "callback_url": CALLBACK_URL,
        "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": NEXT_YEAR, "cvc": "123"},
        "description": "2 mugs",
        "metadata": {"attempt_id": str(ATTEMPT_ID), "order_id": str(ORDER_ID),
                     "merchant_id": json.loads(sent.content)["metadata"]["merchant_id"]}}
    assert sent.extensions["timeout"]["read"] == 1.5  # SandboxSettings.timeout_s, also on an injected client


async def test_purchase_by_token_sends_the_token(gateway_mock: respx.MockRouter, adapter: SandboxProvider) -> None:
    route = gateway_mock.post("/v1/payments").respond(201, json=gateway_object())

    await adapter.purchase(purchase_request(CardToken("tok_abc", "visa", "4242")))

    body = json.loads(route.calls.last.request.content)
    assert body["token"] == "tok_abc" and "card" not in body


async def test_purchase_without_card_or_token_fails_without_calling(
        gateway_mock: respx.MockRouter, adapter: SandboxProvider) -> None:
    route = gateway_mock.post("/v1/payments").respond(201, json=gateway_object())

    result = await adapter.purchase(purchase_request(None))

    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "invalid_request") and not route.called


@pytest.mark.parametrize(("answer", "outcome", "code"), [
    (gateway_object("pending"), Outcome.PENDING, None),
    (gateway_object("succeeded"), Outcome.SUCCEEDED, None),
    (gateway_object("failed", failure_code="card_declined"), Outcome.FAILED, "card_declined"),
    (gateway_object("failed", failure_code="insufficient_funds"), Outcome.FAILED, "insufficient_funds"),
    (gateway_object("failed", failure_code="expired_card"), Outcome.FAILED, "expired_card"),
    (gateway_object("failed", failure_code="processing_error"), Outcome.FAILED, "processing_error"),
    (gateway_object("failed", failure_code="something_new"), Outcome.FAILED, "processing_error"),
    (gateway_object("on_hold"), Outcome.UNKNOWN, None),
])
async def test_purchase_maps_the_gateway_status(gateway_mock: respx.MockRouter, adapter: SandboxProvider,
                                                answer: dict[str, Any], outcome: Outcome, code: str | None) -> None:
    gateway_mock.post("/v1/payments").respond(200, json=answer)

    result = await adapter.purchase(purchase_request())

    assert (result.outcome, result.failure_code, result.provider_reference) == (outcome, code, "sbx_pay_1")


@pytest.mark.parametrize("status", [400, 404, 409, 422])
async def test_gateway_4xx_is_a_failed_invalid_request(gateway_mock: respx.MockRouter, adapter: SandboxProvider,
                                                       status: int) -> None:
    gateway_mock.post("/v1/payments").respond(status, json={"error": {"code": "incorrect_number", "message": "bad"}})

    result = await adapter.purchase(purchase_request())

    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "invalid_request")
    assert "incorrect_number" in (result.failure_message or "")


@pytest.mark.parametrize(("side_effect", "error", "may_have_reached"), [
    (httpx.ReadTimeout("slow"), ProviderTimeout, True),
    (httpx.WriteTimeout("slow"), ProviderTimeout, True),
    (httpx.ConnectTimeout("no route"), ProviderConnectError, False),
    (httpx.ConnectError("refused"), ProviderConnectError, False),
    (httpx.RemoteProtocolError("hung up"), ProviderServerError, True),
])
async def test_transport_failures_raise(gateway_mock: respx.MockRouter, adapter: SandboxProvider,
                                        side_effect: Exception, error: type[Exception], may_have_reached: bool) -> None:
    gateway_mock.post("/v1/payments").mock(side_effect=side_effect)

    with pytest.raises(error) as raised:
        await adapter.purchase(purchase_request())

    assert raised.value.may_have_reached_provider is may_have_reached  # type: ignore[attr-defined]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_raises_server_error(gateway_mock: respx.MockRouter, adapter: SandboxProvider, status: int) -> None:
    gateway_mock.post("/v1/payments").respond(status, text="oops")

    with pytest.raises(ProviderServerError) as raised:
        await adapter.purchase(purchase_request())

    assert raised.value.status_code == status


@pytest.mark.parametrize(("retry_after", "expected"), [("7", 7.0), (None, None), ("whenever", None)])
async def test_429_raises_rate_limited_with_retry_after(gateway_mock: respx.MockRouter, adapter: SandboxProvider,
                                                        retry_after: str | None, expected: float | None) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    gateway_mock.post("/v1/payments").respond(429, headers=headers)

    with pytest.raises(ProviderRateLimited) as raised:
        await adapter.purchase(purchase_request())

    assert raised.value.retry_after == expected


async def test_429_retry_after_as_an_http_date(gateway_mock: respx.MockRouter, adapter: SandboxProvider) -> None:
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    gateway_mock.post("/v1/payments").respond(429, headers={"Retry-After": later})

    with pytest.raises(ProviderRateLimited) as raised:
        await adapter.purchase(purchase_request())

    assert raised.value.retry_after is not None and 25 <= raised.value.retry_after <= 30


@pytest.mark.parametrize("body", [b"<html>bad gateway</html>", b'{"status": "pending"}', b"[]"])
async def test_unreadable_success_bodies_raise_server_error(gateway_mock: respx.MockRouter, adapter: SandboxProvider,
                                                            body: bytes) -> None:
    gateway_mock.post("/v1/payments").respond(201, content=body)

    with pytest.raises(ProviderServerError):
        await adapter.purchase(purchase_request())


async def test_get_status_looks_the_attempt_up_by_idempotency_key(
        gateway_mock: respx.MockRouter, adapter: SandboxProvider) -> None:
    route = gateway_mock.get("/v1/payments", params={"idempotency_key": str(ATTEMPT_ID)}).respond(
        200, json=gateway_object("failed", failure_code="insufficient_funds", failure_message="no money"))

    result = await adapter.get_status(ATTEMPT_ID, None)

    assert route.called
    assert (result.outcome, result.failure_code, result.failure_message) == (Outcome.FAILED, "insufficient_funds",
                                                                              "no money")


async def test_get_status_of_a_payment_the_gateway_never_saw_is_failed(
        gateway_mock: respx.MockRouter, adapter: SandboxProvider) -> None:
    gateway_mock.get("/v1/payments").respond(404, json={"error": {"code": "payment_not_found", "message": "no"}})

    result = await adapter.get_status(ATTEMPT_ID, None)

    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "processing_error")
    assert "never reached" in (result.failure_message or "")


async def test_get_status_cannot_tell_on_another_4xx(gateway_mock: respx.MockRouter, adapter: SandboxProvider) -> None:
    gateway_mock.get("/v1/payments").respond(400, json={"error": {"code": "invalid_request", "message": "?"}})

    assert (await adapter.get_status(ATTEMPT_ID, "sbx_pay_1")).outcome is Outcome.UNKNOWN


@pytest.mark.parametrize(("answer", "error"), [
    (httpx.Response(503), ProviderServerError), (httpx.ReadTimeout("slow"), ProviderTimeout),
    (httpx.Response(429, headers={"Retry-After": "1"}), ProviderRateLimited),
])
async def test_get_status_raises_on_transport_trouble(gateway_mock: respx.MockRouter, adapter: SandboxProvider,
                                                      answer: Any, error: type[Exception]) -> None:
    route = gateway_mock.get("/v1/payments")
    route.mock(side_effect=answer) if isinstance(answer, Exception) else route.mock(return_value=answer)

    with pytest.raises(error):
        await adapter.get_status(ATTEMPT_ID, None)


async def test_refund_sends_the_refund_id_as_idempotency_key(
        gateway_mock: respx.MockRouter, adapter: SandboxProvider) -> None:
    route = gateway_mock.post("/v1/refunds").respond(201, json={"object": "refund", "id": "sbx_re_1",
                                                                "status": "pending", "idempotency_key": "x"})

    result = await adapter.refund(refund_request())

    assert (result.outcome, result.provider_reference) == (Outcome.PENDING, "sbx_re_1")
    sent = route.calls.last.request
    assert sent.headers["Idempotency-Key"] == str(REFUND_ID)
    assert json.loads(sent.content) == {"payment_id": "sbx_pay_1", "amount": 500, "idempotency_key": str(REFUND_ID),
                                        "callback_url": CALLBACK_URL,
                                        "metadata": {"refund_id": str(REFUND_ID), "attempt_id": str(ATTEMPT_ID)}}


async def test_refund_without_reference_finds_the_payment_by_attempt_id(
        gateway_mock: respx.MockRouter, adapter: SandboxProvider) -> None:
    gateway_mock.get("/v1/payments", params={"idempotency_key": str(ATTEMPT_ID)}).respond(
        200, json=gateway_object("succeeded", id="sbx_pay_found"))
    route = gateway_mock.post("/v1/refunds").respond(201, json={"id": "sbx_re_1", "status": "pending"})

    assert (await adapter.refund(refund_request(None))).outcome is Outcome.PENDING
    assert json.loads(route.calls.last.request.content)["payment_id"] == "sbx_pay_found"


async def test_refund_of_a_payment_the_gateway_does_not_know_fails(
        gateway_mock: respx.MockRouter, adapter: SandboxProvider) -> None:
    gateway_mock.get("/v1/payments").respond(404, json={"error": {"code": "payment_not_found", "message": "no"}})
    route = gateway_mock.post("/v1/refunds")

    result = await adapter.refund(refund_request(None))

    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "invalid_request") and not route.called


async def test_refused_refund_is_a_failed_invalid_request(gateway_mock: respx.MockRouter,
                                                          adapter: SandboxProvider) -> None:
    gateway_mock.post("/v1/refunds").respond(422, json={"error": {"code": "amount_exceeds_refundable",
                                                                  "message": "at most 0"}})

    result = await adapter.refund(refund_request())

    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "invalid_request")
    assert "amount_exceeds_refundable" in (result.failure_message or "")


async def test_aclose_closes_only_a_client_the_adapter_created() -> None:
    injected = httpx.AsyncClient()
    await SandboxProvider(sandbox_settings(), injected).aclose()
    owning = SandboxProvider(sandbox_settings())
    await owning.aclose()

    assert not injected.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        await owning.get_status(ATTEMPT_ID, None)
    await injected.aclose()

"""Contract tests of PayPalProvider against the documented PayPal REST shapes (respx)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from app.adapters.providers.errors import ProviderRateLimited, ProviderServerError, ProviderTimeout
from app.adapters.providers.http import ProviderCredentialsRejected, ProviderHttp
from app.adapters.providers.paypal import PayPalProvider, PayPalSettings
from app.adapters.providers.paypal_auth import PayPalAccessTokens
from app.domain.errors import InvalidCallback, MalformedCallback
from app.domain.model.provider import CallbackKind, Outcome
from app.domain.model.verdict import MismatchReason, VerdictSource
from tests.integration.providers import mismatch_cases as cases
from tests.integration.providers import paypal_fixtures as fx
from tests.integration.providers.builders import (
    ATTEMPT_ID, ORDER_ID, REFUND_ID, card, json_of, payment_request, refund_request,
)

BASE = "https://api-m.sandbox.paypal.test"
CLIENT_SECRET = "EFWIRUZmPaypalClientSecretNeverLogged"
SETTINGS = PayPalSettings(client_id="AcLientIdFromTheDashboard", client_secret=CLIENT_SECRET,
                          webhook_id="8PT597110X687430LKGECATA", api_base=BASE, timeout_s=0.5,
                          return_url="https://shop.example/paypal/return", cancel_url="https://shop.example/cancel")
TOKEN = fx.token()["access_token"]
ORDER_PATH = f"/v2/checkout/orders/{fx.ORDER_REF}"


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        router.post("/v1/oauth2/token", name="token").respond(200, json=fx.token())
        yield router


@pytest.fixture
def paypal(http_client):
    return PayPalProvider(SETTINGS, http_client)


async def test_purchase_creates_a_capture_order_and_returns_the_approval_link(api, paypal):
    route = api.post("/v2/checkout/orders").respond(200, json=fx.order("PAYER_ACTION_REQUIRED"))
    result = await paypal.purchase(payment_request(None, 2000, "USD", description="Order 42"))
    assert (result.outcome, result.provider_reference) == (Outcome.PENDING, fx.ORDER_REF)
    assert result.redirect_url == f"https://www.sandbox.paypal.com/checkoutnow?token={fx.ORDER_REF}"
    token_request = api["token"].calls.last.request
    expected_basic = base64.b64encode(f"{SETTINGS.client_id}:{CLIENT_SECRET}".encode()).decode()
    assert token_request.headers["authorization"] == f"Basic {expected_basic}"
    assert token_request.content == b"grant_type=client_credentials"
    sent = route.calls.last.request
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["paypal-request-id"] == str(ATTEMPT_ID)
    assert json_of(sent) == {
        "intent": "CAPTURE",
        "purchase_units": [{"reference_id": str(ORDER_ID), "custom_id": str(ATTEMPT_ID),
                            "invoice_id": str(ATTEMPT_ID), "amount": {"currency_code": "USD", "value": "20.00"},
                            "description": "Order 42"}],
        "payment_source": {"paypal": {"experience_context": {
            "user_action": "PAY_NOW", "shipping_preference": "NO_SHIPPING",
            "return_url": "https://shop.example/paypal/return", "cancel_url": "https://shop.example/cancel"}}},
    }


async def test_the_merchants_return_url_is_where_the_shopper_comes_back_either_way(api, paypal):
    route = api.post("/v2/checkout/orders").respond(200, json=fx.order("PAYER_ACTION_REQUIRED"))
    await paypal.purchase(payment_request(None, return_url="https://shop.example/orders/42/back"))
    context = json_of(route.calls.last.request)["payment_source"]["paypal"]["experience_context"]
    assert (context["return_url"], context["cancel_url"]) == ("https://shop.example/orders/42/back",) * 2


@pytest.mark.parametrize(("amount", "currency", "value"), [
    (2000, "USD", "20.00"), (5, "EUR", "0.05"), (500, "JPY", "500"), (1234, "KWD", "1.234"), (12300, "HUF", "123"),
])
async def test_amounts_are_exponent_aware_decimal_strings(api, paypal, amount, currency, value):
    route = api.post("/v2/checkout/orders").respond(201, json=fx.order())
    await paypal.purchase(payment_request(None, amount, currency))
    assert json_of(route.calls.last.request)["purchase_units"][0]["amount"] == {"currency_code": currency,
                                                                               "value": value}


async def test_unrepresentable_amounts_and_cards_are_refused_without_a_call(api, paypal):
    route = api.post("/v2/checkout/orders")
    fractional_huf = await paypal.purchase(payment_request(None, 12345, "HUF"))
    with_card = await paypal.purchase(payment_request(card()))
    assert {fractional_huf.failure_code, with_card.failure_code} == {"invalid_request"}
    assert not route.called


async def test_token_is_cached_and_concurrent_callers_share_one_fetch(api, paypal):
    async def slow_token(request):
        await asyncio.sleep(0.02)
        return httpx.Response(200, json=fx.token())
    api["token"].mock(side_effect=slow_token)
    api.get(ORDER_PATH).respond(200, json=fx.order("PAYER_ACTION_REQUIRED"))
    results = await asyncio.gather(*(paypal.get_status(ATTEMPT_ID, fx.ORDER_REF) for _ in range(5)))
    await paypal.get_status(ATTEMPT_ID, fx.ORDER_REF)
    assert {r.outcome for r in results} == {Outcome.PENDING}
    assert api["token"].call_count == 1


async def test_token_is_refreshed_shortly_before_expiry(api, http_client):
    now = [1000.0]
    tokens = PayPalAccessTokens(ProviderHttp("paypal", BASE, 1, http_client), "id", "secret", clock=lambda: now[0])
    api["token"].mock(side_effect=[httpx.Response(200, json=fx.token("first", 100)),
                                   httpx.Response(200, json=fx.token("second", 100))])
    assert await tokens.get() == "first"
    now[0] += 89  # expires_in 100, refreshed 10 s (a tenth) early
    assert await tokens.get() == "first"
    now[0] += 2
    assert await tokens.get() == "second"


async def test_401_on_an_api_call_refreshes_the_token_once(api, paypal):
    api["token"].mock(side_effect=[httpx.Response(200, json=fx.token("revoked")),
                                   httpx.Response(200, json=fx.token("fresh"))])
    route = api.post("/v2/checkout/orders").mock(side_effect=[
        httpx.Response(401, json={"error": "invalid_token", "error_description": "Token signature verification failed"}),
        httpx.Response(201, json=fx.order())])
    assert (await paypal.purchase(payment_request(None))).outcome is Outcome.PENDING
    assert [c.request.headers["authorization"] for c in route.calls] == ["Bearer revoked", "Bearer fresh"]
    assert {c.request.headers["paypal-request-id"] for c in route.calls} == {str(ATTEMPT_ID)}


async def test_persistent_401_and_bad_client_credentials_are_credential_errors(api, paypal):
    api.post("/v2/checkout/orders").respond(401, json={"error": "invalid_token"})
    with pytest.raises(ProviderCredentialsRejected):
        await paypal.purchase(payment_request(None))
    assert api["token"].call_count == 2
    api["token"].respond(401, json={"error": "invalid_client", "error_description": "Client Authentication failed"})
    other = PayPalProvider(SETTINGS, httpx.AsyncClient())
    with pytest.raises(ProviderCredentialsRejected) as raised:
        await other.purchase(payment_request(None))
    await other.aclose()
    assert CLIENT_SECRET not in str(raised.value) and CLIENT_SECRET not in repr(SETTINGS)


async def test_transport_failures_and_validation_errors(api, paypal):
    route = api.post("/v2/checkout/orders")
    for effect, expected in [(httpx.Response(500, json=fx.error("INTERNAL_SERVER_ERROR", "INTERNAL_SERVICE_ERROR",
                                                                "An internal service error has occurred")),
                              ProviderServerError),
                             (httpx.ReadTimeout("timed out"), ProviderTimeout),
                             (httpx.Response(201, text="{not json"), ProviderServerError)]:
        route.mock(side_effect=[effect])
        with pytest.raises(expected):
            await paypal.purchase(payment_request(None))
    route.mock(side_effect=[httpx.Response(429, headers={"Retry-After": "3"}, json={"name": "RATE_LIMIT_REACHED"})])
    with pytest.raises(ProviderRateLimited) as limited:
        await paypal.purchase(payment_request(None))
    assert limited.value.retry_after == 3.0
    route.mock(side_effect=[httpx.Response(422, json=fx.error(
        "UNPROCESSABLE_ENTITY", "CURRENCY_NOT_SUPPORTED", "Currency code is not currently supported."))])
    result = await paypal.purchase(payment_request(None, 1234, "KWD"))
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "invalid_request")
    assert "CURRENCY_NOT_SUPPORTED" in result.failure_message


@pytest.mark.parametrize(("response", "outcome", "code"), [
    (httpx.Response(201, json=fx.captured_order("COMPLETED")), Outcome.SUCCEEDED, None),
    (httpx.Response(201, json=fx.captured_order("PENDING", status_details={"reason": "PENDING_REVIEW"})),
     Outcome.PENDING, None),
    (httpx.Response(201, json=fx.captured_order("DECLINED")), Outcome.FAILED, "card_declined"),
    (httpx.Response(422, json=fx.error("UNPROCESSABLE_ENTITY", "INSTRUMENT_DECLINED",
                                       "The instrument presented was either declined by the processor or bank")),
     Outcome.FAILED, "card_declined"),
    (httpx.Response(422, json=fx.error("UNPROCESSABLE_ENTITY", "CARD_EXPIRED", "The card is expired")),
     Outcome.FAILED, "expired_card"),
    (httpx.Response(422, json=fx.error("UNPROCESSABLE_ENTITY", "PAYER_ACTION_REQUIRED",
                                       "Payer needs to perform the following action before proceeding")),
     Outcome.PENDING, None),
])
async def test_get_status_captures_an_approved_order(api, paypal, response, outcome, code):
    api.get(ORDER_PATH).respond(200, json=fx.order("APPROVED"))
    capture = api.post(f"{ORDER_PATH}/capture").mock(return_value=response)
    result = await paypal.get_status(ATTEMPT_ID, fx.ORDER_REF)
    assert (result.outcome, result.failure_code, result.provider_reference) == (outcome, code, fx.ORDER_REF)
    assert capture.calls.last.request.headers["paypal-request-id"] == f"{ATTEMPT_ID}-capture"


async def test_capture_of_an_already_captured_order_reads_it_back(api, paypal):
    order = api.get(ORDER_PATH).mock(side_effect=[httpx.Response(200, json=fx.order("APPROVED")),
                                                  httpx.Response(200, json=fx.captured_order("COMPLETED"))])
    api.post(f"{ORDER_PATH}/capture").respond(422, json=fx.error(
        "UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED", "Order already captured."))
    assert (await paypal.get_status(ATTEMPT_ID, fx.ORDER_REF)).outcome is Outcome.SUCCEEDED
    assert order.call_count == 2


@pytest.mark.parametrize(("status", "body", "outcome"), [
    (200, fx.order("PAYER_ACTION_REQUIRED"), Outcome.PENDING),
    (200, fx.captured_order("COMPLETED"), Outcome.SUCCEEDED),
    (200, fx.order("VOIDED"), Outcome.FAILED),
    (404, fx.error("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID", "Specified resource ID does not exist."),
     Outcome.FAILED),
])
async def test_get_status_of_orders_needing_no_capture(api, paypal, status, body, outcome):
    api.get(ORDER_PATH).respond(status, json=body)
    capture = api.post(f"{ORDER_PATH}/capture")
    assert (await paypal.get_status(ATTEMPT_ID, fx.ORDER_REF)).outcome is outcome
    assert not capture.called
    assert (await paypal.get_status(ATTEMPT_ID, None)).outcome is Outcome.UNKNOWN


async def test_refund_finds_the_capture_and_refunds_it_idempotently(api, paypal):
    api.get(ORDER_PATH).respond(200, json=fx.captured_order("COMPLETED"))
    route = api.post(f"/v2/payments/captures/{fx.CAPTURE_ID}/refund").respond(201, json=fx.refund("COMPLETED"))
    result = await paypal.refund(refund_request(fx.ORDER_REF, 2000, "USD"))
    assert (result.outcome, result.provider_reference) == (Outcome.SUCCEEDED, fx.REFUND_REF)
    sent = route.calls.last.request
    assert sent.headers["paypal-request-id"] == str(REFUND_ID)
    assert json_of(sent) == {"amount": {"currency_code": "USD", "value": "20.00"},
                             "custom_id": str(REFUND_ID), "invoice_id": str(REFUND_ID)}
    route.respond(201, json=fx.refund("PENDING"))
    assert (await paypal.refund(refund_request(fx.ORDER_REF))).outcome is Outcome.PENDING
    route.respond(422, json=fx.error("UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED",
                                     "The capture has already been fully refunded"))
    refused = await paypal.refund(refund_request(fx.ORDER_REF))
    assert (refused.outcome, refused.failure_code) == (Outcome.FAILED, "invalid_request")
    api.get(ORDER_PATH).respond(200, json=fx.order("PAYER_ACTION_REQUIRED"))  # never captured
    assert (await paypal.refund(refund_request(fx.ORDER_REF))).outcome is Outcome.FAILED


def webhook_headers(sent_at: datetime | None = None) -> dict[str, str]:
    sent_at = sent_at or datetime.now(UTC)
    return {
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        "PAYPAL-CERT-URL": f"{fx.API}/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77",
        "PAYPAL-TRANSMISSION-ID": "69cd13f0-d67a-11e5-baa3-778b53f4ae55",
        "PAYPAL-TRANSMISSION-SIG": "lmI95Jx3Y9nhR5SJWlHVIWpg4AgFk7n9bCHSRxbrd8A9zrhdu2rMyFrmz+Zjh3s3boXB07VX",
        "PAYPAL-TRANSMISSION-TIME": sent_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def raw(event: dict) -> bytes:  # spacing PayPal's own serialiser would not produce
    return json.dumps(event, indent=1).encode()


async def test_order_approved_webhook_is_verified_then_captured(api, paypal):
    verify = api.post("/v1/notifications/verify-webhook-signature").respond(200, json={"verification_status": "SUCCESS"})
    capture = api.post(f"{ORDER_PATH}/capture").respond(201, json=fx.captured_order("COMPLETED"))
    body = raw(fx.webhook("CHECKOUT.ORDER.APPROVED", "checkout-order", fx.order("APPROVED")))
    headers = webhook_headers()
    event = await paypal.parse_callback(headers, body)
    assert (event.kind, event.attempt_id, event.event_id) == (CallbackKind.PAYMENT, ATTEMPT_ID,
                                                              "WH-58D329510W468432D-8HN650336L201105X")
    assert (event.result.outcome, event.result.provider_reference) == (Outcome.SUCCEEDED, fx.ORDER_REF)
    assert capture.calls.last.request.headers["paypal-request-id"] == f"{ATTEMPT_ID}-capture"
    sent = verify.calls.last.request
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.content.endswith(b',"webhook_event":' + body + b"}")  # the exact bytes PayPal signed
    assert json_of(sent) == {"auth_algo": "SHA256withRSA", "cert_url": headers["PAYPAL-CERT-URL"],
                             "transmission_id": headers["PAYPAL-TRANSMISSION-ID"],
                             "transmission_sig": headers["PAYPAL-TRANSMISSION-SIG"],
                             "transmission_time": headers["PAYPAL-TRANSMISSION-TIME"],
                             "webhook_id": SETTINGS.webhook_id, "webhook_event": json.loads(body)}


@pytest.mark.parametrize(("event_type", "resource_type", "resource", "kind", "outcome"), [
    ("PAYMENT.CAPTURE.COMPLETED", "capture", fx.capture("COMPLETED"), CallbackKind.PAYMENT, Outcome.SUCCEEDED),
    ("PAYMENT.CAPTURE.DENIED", "capture", fx.capture("DECLINED"), CallbackKind.PAYMENT, Outcome.FAILED),
    ("PAYMENT.CAPTURE.REFUNDED", "refund", fx.refund("COMPLETED"), CallbackKind.REFUND, Outcome.SUCCEEDED),
    ("CUSTOMER.DISPUTE.CREATED", "dispute", {"dispute_id": "PP-D-27803"}, CallbackKind.IGNORED, Outcome.UNKNOWN),
    ("PAYMENT.CAPTURE.COMPLETED", "capture", fx.capture(custom_id="someone-else"), CallbackKind.IGNORED,
     Outcome.UNKNOWN),
])
async def test_capture_refund_and_other_webhooks(api, paypal, event_type, resource_type, resource, kind, outcome):
    api.post("/v1/notifications/verify-webhook-signature").respond(200, json={"verification_status": "SUCCESS"})
    event = await paypal.parse_callback(webhook_headers(), raw(fx.webhook(event_type, resource_type, resource)))
    assert (event.kind, event.result.outcome, event.event_type) == (kind, outcome, event_type)
    if kind is CallbackKind.PAYMENT:
        assert (event.attempt_id, event.result.provider_reference) == (ATTEMPT_ID, fx.ORDER_REF)
    if kind is CallbackKind.REFUND:
        assert (event.refund_id, event.result.provider_reference) == (REFUND_ID, fx.REFUND_REF)


async def test_forged_stale_unsigned_and_malformed_webhooks_are_refused(api, paypal):
    verify = api.post("/v1/notifications/verify-webhook-signature").respond(200, json={"verification_status": "FAILURE"})
    body = raw(fx.webhook("PAYMENT.CAPTURE.COMPLETED", "capture", fx.capture()))
    with pytest.raises(InvalidCallback) as forged:
        await paypal.parse_callback(webhook_headers(), body)
    assert forged.value.code == "invalid_signature"
    verify.respond(400, json={"name": "VALIDATION_ERROR", "message": "Invalid request - see details",
                              "details": [{"field": "cert_url", "issue": "Invalid cert url"}]})
    with pytest.raises(InvalidCallback):
        await paypal.parse_callback(webhook_headers(), body)
    calls = verify.call_count
    with pytest.raises(InvalidCallback) as stale:
        await paypal.parse_callback(webhook_headers(datetime.now(UTC) - timedelta(minutes=6)), body)
    assert stale.value.code == "stale_callback"
    headers = webhook_headers()
    del headers["PAYPAL-TRANSMISSION-SIG"]
    with pytest.raises(InvalidCallback):
        await paypal.parse_callback(headers, body)
    with pytest.raises(MalformedCallback):
        await paypal.parse_callback(webhook_headers(), b"<xml/>")
    assert verify.call_count == calls  # refused before asking PayPal


async def test_verification_outage_is_a_transport_error_not_a_verdict(api, paypal):
    api.post("/v1/notifications/verify-webhook-signature").respond(503, text="Service Unavailable")
    with pytest.raises(ProviderServerError):
        await paypal.parse_callback(webhook_headers(), raw(fx.webhook("PAYMENT.CAPTURE.COMPLETED", "capture",
                                                                       fx.capture())))


# (capture changes, purchase-unit changes, reasons). PayPal echoes no merchant: another
# merchant's order shows as another order (reference_id) or another attempt (invoice_id).
PAYPAL_MISMATCHES = {
    "wrong_amount": ({"amount": {"currency_code": "USD", "value": "0.01"}}, {}, {MismatchReason.AMOUNT}),
    "wrong_currency": ({"amount": {"currency_code": "EUR", "value": "20.00"}}, {}, {MismatchReason.CURRENCY}),
    "wrong_reference": ({"supplementary_data": {"related_ids": {"order_id": "9XX00000OTHER000"}}}, {},
                        {MismatchReason.REFERENCE}),
    "other_merchants_attempt": ({"invoice_id": cases.OTHER_ORDER}, {"reference_id": cases.OTHER_ORDER},
                                {MismatchReason.ATTEMPT, MismatchReason.ORDER}),
    "unknown_attempt": ({}, {}, {MismatchReason.UNKNOWN_ATTEMPT}),
}


async def test_a_genuine_capture_of_our_order_matches(api, paypal):
    api.post("/v1/notifications/verify-webhook-signature").respond(200, json={"verification_status": "SUCCESS"})
    event = await paypal.parse_callback(webhook_headers(), raw(fx.webhook("PAYMENT.CAPTURE.COMPLETED", "capture",
                                                                          fx.capture())))
    cases.assert_matches("paypal", fx.ORDER_REF, event.result)
    api.get(ORDER_PATH).respond(200, json=fx.captured_order())
    cases.assert_matches("paypal", fx.ORDER_REF, await paypal.get_status(ATTEMPT_ID, fx.ORDER_REF))


@pytest.mark.parametrize("case", cases.CASES)
async def test_mismatching_capture_webhooks_and_order_look_ups_are_refused(api, paypal, case):
    capture_changes, unit_changes, expected = PAYPAL_MISMATCHES[case]
    api.post("/v1/notifications/verify-webhook-signature").respond(200, json={"verification_status": "SUCCESS"})
    capture = fx.capture(**capture_changes)
    event = await paypal.parse_callback(webhook_headers(), raw(fx.webhook("PAYMENT.CAPTURE.COMPLETED", "capture",
                                                                          capture)))
    from_webhook = set(cases.reasons("paypal", fx.ORDER_REF, event.result, case))
    order = fx.captured_order(**capture_changes)
    order["purchase_units"][0].update(unit_changes)
    api.get(ORDER_PATH).respond(200, json=order)
    status = await paypal.get_status(ATTEMPT_ID, fx.ORDER_REF)
    from_status = set(cases.reasons("paypal", fx.ORDER_REF, status, case, VerdictSource.STATUS))
    # The capture webhook carries no purchase unit, the order look-up no related order id.
    assert from_webhook | from_status == expected

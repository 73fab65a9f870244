"""Contract tests of StripeProvider against the documented Stripe API shapes (respx)."""

from __future__ import annotations

import json
import time
import uuid

import httpx
import pytest
import respx
import stripe as stripe_sdk

from app.adapters.providers.errors import (
    ProviderConnectError, ProviderRateLimited, ProviderServerError, ProviderTimeout,
)
from app.adapters.providers.http import ProviderCredentialsRejected
from app.adapters.providers.stripe import STRIPE_API_VERSION, StripeProvider, StripeSettings
from app.domain.errors import InvalidCallback, MalformedCallback
from app.domain.model.card import CardToken
from app.domain.model.money import Money
from app.domain.model.provider import CallbackKind, Outcome
from app.domain.model.verdict import MismatchReason, VerdictSource
from tests.integration.providers import mismatch_cases as cases
from tests.integration.providers import stripe_fixtures as fx
from tests.integration.providers.builders import (
    ATTEMPT_ID, MERCHANT_ID, ORDER_ID, REFUND_ID, card, form_of, payment_request, refund_request,
)

BASE = "https://api.stripe.test"
SECRET_KEY = "sk_test_51NzSecretKeyThatMustNeverBeLogged"
OLD_SECRET, CURRENT_SECRET = "whsec_old_rolling_out", "whsec_current_signing_secret"
SETTINGS = StripeSettings(secret_key=SECRET_KEY, webhook_secrets=[OLD_SECRET, CURRENT_SECRET],
                          api_base=BASE, timeout_s=0.5)


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def stripe(http_client):
    return StripeProvider(SETTINGS, http_client)


async def test_purchase_sends_one_confirmed_payment_intent(api, stripe):
    route = api.post("/v1/payment_intents").respond(200, json=fx.payment_intent("succeeded"))
    result = await stripe.purchase(payment_request(CardToken("pm_card_visa"), 2000, "USD", description="Order 42",
                                                   return_url="https://shop.example/back"))
    assert (result.outcome, result.provider_reference) == (Outcome.SUCCEEDED, fx.PI_ID)
    sent = route.calls.last.request
    assert sent.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert sent.headers["idempotency-key"] == str(ATTEMPT_ID)
    assert sent.headers["stripe-version"] == STRIPE_API_VERSION == "2026-10-28.endive"
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form_of(sent) == {  # card-only the endive way: no payment_method_types any more
        "amount": "2000", "currency": "usd", "confirm": "true", "payment_method": "pm_card_visa",
        "allowed_payment_method_types[0]": "card", "metadata[attempt_id]": str(ATTEMPT_ID),
        "metadata[order_id]": str(ORDER_ID), "metadata[merchant_id]": str(MERCHANT_ID),
        "description": "Order 42", "return_url": "https://shop.example/back",
    }


async def test_without_a_return_url_redirects_are_off_and_authentication_fails_fast(api, stripe):
    route = api.post("/v1/payment_intents").respond(200, json=fx.payment_intent("succeeded"))
    await stripe.purchase(payment_request())
    form = form_of(route.calls.last.request)
    assert "return_url" not in form and "payment_method_types[0]" not in form
    assert (form["automatic_payment_methods[enabled]"], form["automatic_payment_methods[allow_redirects]"],
            form["error_on_requires_action"]) == ("true", "never", "true")


async def test_every_request_carries_the_pinned_or_configured_version(api, http_client):
    routes = [api.post("/v1/payment_intents").respond(200, json=fx.payment_intent()),
              api.post("/v1/refunds").respond(200, json=fx.refund()),
              api.get(f"/v1/payment_intents/{fx.PI_ID}").respond(200, json=fx.payment_intent()),
              api.get("/v1/payment_intents/search").respond(200, json=fx.search_result())]
    for version in (STRIPE_API_VERSION, "2027-01-27.fennel"):
        provider = StripeProvider(StripeSettings(secret_key=SECRET_KEY, api_base=BASE, api_version=version),
                                  http_client)
        await provider.purchase(payment_request())
        await provider.refund(refund_request(fx.PI_ID))
        await provider.get_status(ATTEMPT_ID, fx.PI_ID)
        await provider.get_status(ATTEMPT_ID, None, Money(2000, "USD"))
        assert [route.calls.last.request.headers["stripe-version"] for route in routes] == [version] * 4


async def test_zero_decimal_currency_is_sent_in_whole_units(api, stripe):
    route = api.post("/v1/payment_intents").respond(200, json=fx.payment_intent("succeeded", currency="jpy"))
    await stripe.purchase(payment_request(amount=500, currency="JPY"))
    assert form_of(route.calls.last.request)["amount"] == "500"
    assert form_of(route.calls.last.request)["currency"] == "jpy"


@pytest.mark.parametrize(("number", "test_method"), [
    ("4242424242424242", "pm_card_visa"),
    ("4000000000000002", "pm_card_visa_chargeDeclined"),
    ("4000000000009995", "pm_card_visa_chargeDeclinedInsufficientFunds"),
    ("4000000000000069", "pm_card_chargeDeclinedExpiredCard"),
    ("4000000000000119", "pm_card_chargeDeclinedProcessingError"),
    ("5555555555554444", "pm_card_mastercard"),
])
async def test_raw_test_cards_become_stripe_test_payment_methods(api, stripe, number, test_method):
    route = api.post("/v1/payment_intents").respond(200, json=fx.payment_intent())
    await stripe.purchase(payment_request(card(number)))
    body = route.calls.last.request.content.decode()
    assert form_of(route.calls.last.request)["payment_method"] == test_method
    assert number not in body and "cvc" not in body


async def test_live_mode_never_sends_a_raw_card(api, http_client):
    live = StripeProvider(StripeSettings(secret_key="sk_live_x", api_base=BASE, mode="live"), http_client)
    route = api.post("/v1/payment_intents")
    result = await live.purchase(payment_request(card()))
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "invalid_request")
    assert not route.called


async def test_requires_action_is_pending_with_the_redirect(api, stripe):
    next_action = fx.three_d_secure_redirect("https://shop.example/back?order=42")
    intent = fx.payment_intent("requires_action", next_action=next_action,
                               automatic_payment_methods={"allow_redirects": "always", "enabled": True})
    route = api.post("/v1/payment_intents").respond(200, json=intent)
    result = await stripe.purchase(payment_request(return_url="https://shop.example/back?order=42"))
    assert (result.outcome, result.provider_reference) == (Outcome.PENDING, fx.PI_ID)
    assert result.redirect_url == next_action["redirect_to_url"]["url"]
    assert form_of(route.calls.last.request)["return_url"] == "https://shop.example/back?order=42"
    # An action we cannot send the shopper to (Stripe.js would handle it) is pending too.
    route.respond(200, json=fx.payment_intent("requires_action", next_action={
        "type": "use_stripe_sdk", "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": "https://x"}}))
    result = await stripe.purchase(payment_request())
    assert (result.outcome, result.redirect_url) == (Outcome.PENDING, None)


async def test_three_d_secure_verdicts_arrive_by_webhook(stripe):
    approved = await stripe.parse_callback(*signed(fx.event("payment_intent.succeeded", fx.payment_intent())))
    assert (approved.attempt_id, approved.result.outcome) == (ATTEMPT_ID, Outcome.SUCCEEDED)
    error = {"type": "invalid_request_error", "code": "payment_intent_authentication_failure",
             "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
             "message": "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
                        "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."}
    refused = fx.payment_intent("requires_payment_method", last_payment_error=error, next_action=None)
    event = await stripe.parse_callback(*signed(fx.event("payment_intent.payment_failed", refused)))
    assert (event.result.outcome, event.result.failure_code) == (Outcome.FAILED, "authentication_required")


async def test_processing_is_pending(api, stripe):
    api.post("/v1/payment_intents").respond(200, json=fx.payment_intent("processing"))
    assert (await stripe.purchase(payment_request())).outcome is Outcome.PENDING


@pytest.mark.parametrize(("code", "decline_code", "ours"), [
    ("card_declined", "generic_decline", "card_declined"),
    ("card_declined", "do_not_honor", "card_declined"),
    ("card_declined", "insufficient_funds", "insufficient_funds"),
    ("card_declined", "lost_card", "lost_or_stolen"),
    ("card_declined", "stolen_card", "lost_or_stolen"),
    ("card_declined", "fraudulent", "fraud_blocked"),
    ("expired_card", None, "expired_card"),
    ("incorrect_cvc", None, "invalid_cvc"),
    ("incorrect_number", None, "incorrect_number"),
    ("processing_error", None, "processing_error"),
    ("authentication_required", "authentication_required", "authentication_required"),
    ("card_declined", "some_future_reason", "card_declined"),
])
async def test_card_errors_map_to_our_failure_codes(api, stripe, code, decline_code, ours):
    api.post("/v1/payment_intents").respond(402, json=fx.card_error(code, decline_code, "Your card was declined."))
    result = await stripe.purchase(payment_request())
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, ours)
    assert result.provider_reference == fx.PI_ID  # the failed intent is still known for support
    assert result.failure_message == "Your card was declined."


async def test_requires_action_and_canceled_events_are_payment_events(stripe):
    pending = fx.payment_intent("requires_action", next_action=fx.three_d_secure_redirect())
    event = await stripe.parse_callback(*signed(fx.event("payment_intent.requires_action", pending)))
    assert (event.kind, event.result.outcome) == (CallbackKind.PAYMENT, Outcome.PENDING)
    assert event.result.redirect_url == fx.three_d_secure_redirect()["redirect_to_url"]["url"]
    canceled = fx.payment_intent("canceled", cancellation_reason="abandoned")
    event = await stripe.parse_callback(*signed(fx.event("payment_intent.canceled", canceled)))
    assert (event.kind, event.result.outcome, event.result.failure_code) == \
        (CallbackKind.PAYMENT, Outcome.FAILED, "processing_error")


async def test_authentication_needed_without_a_return_url_fails_at_once(api, stripe):
    """error_on_requires_action: a card that needs 3-D Secure is declined, not left waiting."""
    api.post("/v1/payment_intents").respond(402, json=fx.card_error(
        "authentication_required", "authentication_required", "Your card was declined. This transaction requires "
        "authentication."))
    result = await stripe.purchase(payment_request(card("4000000000003220")))
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "authentication_required")


async def test_a_parameter_this_version_removed_is_an_invalid_request(api, stripe):
    api.post("/v1/payment_intents").respond(400, json=fx.invalid_request(
        "payment_method_types_no_longer_supported",
        "payment_method_types is no longer supported on PaymentIntents; use allowed_payment_method_types.",
        "payment_method_types"))
    result = await stripe.purchase(payment_request())
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "invalid_request")
    assert "allowed_payment_method_types" in result.failure_message


async def test_validation_error_is_a_failed_invalid_request(api, stripe):
    api.post("/v1/payment_intents").respond(400, json=fx.invalid_request(
        "amount_too_small", "Amount must be at least $0.50 usd", "amount"))
    result = await stripe.purchase(payment_request(amount=10))
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "invalid_request")
    assert "at least" in result.failure_message


async def test_idempotency_key_in_use_is_no_verdict_but_a_mismatch_is(api, stripe):
    route = api.post("/v1/payment_intents")
    route.respond(409, json={"error": {"code": "idempotency_key_in_use", "type": "idempotency_error",
                                       "message": "There is currently another in-progress request using this key"}})
    with pytest.raises(ProviderServerError):
        await stripe.purchase(payment_request())
    route.respond(400, json={"error": {"type": "idempotency_error", "message": "Keys for idempotent requests "
                                       "can only be used with the same parameters they were first used with."}})
    result = await stripe.purchase(payment_request())
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "invalid_request")


async def test_transport_failures_raise_transport_errors(api, stripe):
    route = api.post("/v1/payment_intents")
    cases = [
        (httpx.Response(500, json={"error": {"type": "api_error", "message": "An unknown error occurred"}}),
         ProviderServerError),
        (httpx.Response(503, text="upstream unavailable"), ProviderServerError),
        (httpx.ReadTimeout("read timed out"), ProviderTimeout),
        (httpx.ConnectError("connection refused"), ProviderConnectError),
        (httpx.ConnectTimeout("connect timed out"), ProviderConnectError),
        (httpx.RemoteProtocolError("peer closed connection"), ProviderServerError),
        (httpx.DecodingError("invalid gzip stream"), ProviderServerError),
        (httpx.Response(200, text="<html>gateway</html>"), ProviderServerError),  # unreadable success
    ]
    for effect, expected in cases:
        route.mock(side_effect=[effect])
        with pytest.raises(expected) as raised:
            await stripe.purchase(payment_request(card("4000000000009995")))
        assert SECRET_KEY not in str(raised.value) and "4000000000009995" not in str(raised.value)
        # the httpx exception holds the request, Authorization header included: never chained
        assert raised.value.__cause__ is None
        assert raised.value.__context__ is None or raised.value.__suppress_context__
    assert ProviderConnectError("stripe", "x").may_have_reached_provider is False
    assert ProviderTimeout("stripe", "x").may_have_reached_provider is True


async def test_429_carries_retry_after(api, stripe):
    api.post("/v1/payment_intents").respond(429, headers={"Retry-After": "2"}, json={"error": {
        "type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests"}})
    with pytest.raises(ProviderRateLimited) as raised:
        await stripe.purchase(payment_request())
    assert raised.value.retry_after == 2.0


async def test_rejected_key_is_reported_without_the_key(api, stripe):
    api.post("/v1/payment_intents").respond(401, json={"error": {
        "type": "invalid_request_error", "message": f"Invalid API Key provided: {SECRET_KEY[:8]}****"}})
    with pytest.raises(ProviderCredentialsRejected) as raised:
        await stripe.purchase(payment_request())
    assert "sk_test" not in str(raised.value)
    assert "sk_test" not in repr(SETTINGS) and "whsec" not in repr(SETTINGS)


async def test_refund_request_shape_and_outcomes(api, stripe):
    route = api.post("/v1/refunds").respond(200, json=fx.refund("succeeded"))
    result = await stripe.refund(refund_request(fx.PI_ID, 2000))
    assert (result.outcome, result.provider_reference) == (Outcome.SUCCEEDED, fx.REFUND_REF)
    sent = route.calls.last.request
    assert sent.headers["idempotency-key"] == str(REFUND_ID)
    assert form_of(sent) == {"payment_intent": fx.PI_ID, "amount": "2000", "metadata[refund_id]": str(REFUND_ID),
                             "metadata[attempt_id]": str(ATTEMPT_ID)}
    route.respond(200, json=fx.refund("pending"))
    assert (await stripe.refund(refund_request(fx.PI_ID))).outcome is Outcome.PENDING
    route.respond(200, json=fx.refund("failed", failure_reason="expired_or_canceled_card"))
    assert (await stripe.refund(refund_request(fx.PI_ID))).outcome is Outcome.FAILED


async def test_refund_refused_by_stripe_and_refund_without_reference(api, stripe):
    route = api.post("/v1/refunds").respond(400, json=fx.invalid_request(
        "charge_already_refunded", f"Charge {fx.CHARGE_ID} has already been refunded.", "charge"))
    result = await stripe.refund(refund_request(fx.PI_ID))
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "invalid_request")
    route.reset()
    assert (await stripe.refund(refund_request(None))).outcome is Outcome.FAILED
    assert not route.called


AMOUNT = Money(2000, "USD")


async def test_get_status_by_id_and_by_metadata_search(api, stripe):
    by_id = api.get(f"/v1/payment_intents/{fx.PI_ID}").respond(200, json=fx.payment_intent("succeeded"))
    assert (await stripe.get_status(ATTEMPT_ID, fx.PI_ID)).outcome is Outcome.SUCCEEDED
    assert by_id.calls.last.request.headers["authorization"] == f"Bearer {SECRET_KEY}"
    search = api.get("/v1/payment_intents/search").respond(200, json=fx.search_result(fx.payment_intent("processing")))
    assert (await stripe.get_status(ATTEMPT_ID, None, AMOUNT)).outcome is Outcome.PENDING
    assert search.calls.last.request.url.params["query"] == f"metadata['attempt_id']:'{ATTEMPT_ID}'"
    search.respond(200, json=fx.search_result())
    assert (await stripe.get_status(ATTEMPT_ID, None, AMOUNT)).outcome is Outcome.UNKNOWN
    api.get("/v1/payment_intents/pi_missing").respond(404, json=fx.invalid_request(
        "resource_missing", "No such payment_intent: 'pi_missing'", "intent"))
    assert (await stripe.get_status(ATTEMPT_ID, "pi_missing")).outcome is Outcome.UNKNOWN


@pytest.mark.parametrize("stranger", [
    fx.payment_intent("succeeded", id="pi_other", metadata={"attempt_id": str(uuid.uuid4())}),
    fx.payment_intent("succeeded", id="pi_other", metadata={}),
    fx.payment_intent("succeeded", id="pi_other", amount=1),
    fx.payment_intent("succeeded", id="pi_other", currency="jpy"),
])
async def test_search_results_that_are_not_the_attempts_are_ignored(api, stripe, stranger, capsys):
    search = api.get("/v1/payment_intents/search").respond(200, json=fx.search_result(stranger))
    result = await stripe.get_status(ATTEMPT_ID, None, AMOUNT)
    assert (result.outcome, result.provider_reference) == (Outcome.UNKNOWN, None)
    assert "provider_search_result_ignored" in capsys.readouterr().out
    # Next to the attempt's own intent, a stranger changes nothing, whatever its order.
    search.respond(200, json=fx.search_result(stranger, fx.payment_intent("requires_payment_method",
                                                                          last_payment_error={"code": "expired_card"})))
    result = await stripe.get_status(ATTEMPT_ID, None, AMOUNT)
    assert (result.outcome, result.provider_reference, result.failure_code) == \
        (Outcome.FAILED, fx.PI_ID, "expired_card")


async def test_search_without_an_amount_to_verify_trusts_nothing(api, stripe):
    search = api.get("/v1/payment_intents/search").respond(200, json=fx.search_result(fx.payment_intent()))
    assert (await stripe.get_status(ATTEMPT_ID, None)).outcome is Outcome.UNKNOWN
    assert not search.called


def signed(payload: dict, secret: str = CURRENT_SECRET, timestamp: int | None = None) -> tuple[dict, bytes]:
    """Headers as Stripe sends them, produced by the official stripe package."""
    body = json.dumps(payload)
    header = stripe_sdk.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    return {"Stripe-Signature": header, "Content-Type": "application/json"}, body.encode()


async def test_callback_signed_by_the_official_library_is_accepted(stripe):
    headers, body = signed(fx.event("payment_intent.succeeded", fx.payment_intent("succeeded")))
    stripe_sdk.Webhook.construct_event(body, headers["Stripe-Signature"], CURRENT_SECRET)  # the fixture is genuine
    event = await stripe.parse_callback(headers, body)
    assert (event.kind, event.attempt_id, event.event_id) == (CallbackKind.PAYMENT, ATTEMPT_ID, "evt_1NG8Du2eZvKYlo2CUI79vXWy")
    assert (event.result.outcome, event.result.provider_reference) == (Outcome.SUCCEEDED, fx.PI_ID)
    assert event.event_type == "payment_intent.succeeded"


async def test_callback_signed_with_the_previous_secret_or_among_several_v1(stripe):
    headers, body = signed(fx.event("payment_intent.succeeded", fx.payment_intent()), secret=OLD_SECRET)
    assert (await stripe.parse_callback({"stripe-signature": headers["Stripe-Signature"]}, body)).kind is CallbackKind.PAYMENT
    t, v1 = headers["Stripe-Signature"].split(",")
    several = f"{t},v1={'0' * 64},{v1},v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
    assert (await stripe.parse_callback({"Stripe-Signature": several}, body)).kind is CallbackKind.PAYMENT


async def test_forged_tampered_unsigned_and_stale_callbacks_are_refused(stripe):
    payload = fx.event("payment_intent.succeeded", fx.payment_intent())
    headers, body = signed(payload, secret="whsec_attacker")
    with pytest.raises(InvalidCallback) as forged:
        await stripe.parse_callback(headers, body)
    assert forged.value.code == "invalid_signature"
    headers, body = signed(payload)
    with pytest.raises(InvalidCallback):
        await stripe.parse_callback(headers, body.replace(b"succeeded", b"succeedeX"))
    for bad in ({}, {"Stripe-Signature": "v1=abc"}, {"Stripe-Signature": "t=notanumber,v1=abc"}):
        with pytest.raises(InvalidCallback):
            await stripe.parse_callback(bad, body)
    headers, body = signed(payload, timestamp=int(time.time()) - 301)
    with pytest.raises(InvalidCallback) as stale:
        await stripe.parse_callback(headers, body)
    assert stale.value.code == "stale_callback"


async def test_genuine_but_unreadable_callback_is_malformed(stripe):
    header = stripe_sdk.WebhookSignature.generate_signature_header("not json", CURRENT_SECRET)
    with pytest.raises(MalformedCallback):
        await stripe.parse_callback({"Stripe-Signature": header}, b"not json")
    headers, body = signed({"id": "evt_1", "object": "event", "type": "payment_intent.succeeded"})
    with pytest.raises(MalformedCallback):
        await stripe.parse_callback(headers, body)


async def test_payment_failed_event_carries_the_decline(stripe):
    error = {"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
             "message": "Your card has insufficient funds."}
    intent = fx.payment_intent("requires_payment_method", last_payment_error=error)
    event = await stripe.parse_callback(*signed(fx.event("payment_intent.payment_failed", intent)))
    assert (event.kind, event.attempt_id) == (CallbackKind.PAYMENT, ATTEMPT_ID)
    assert (event.result.outcome, event.result.failure_code) == (Outcome.FAILED, "insufficient_funds")


async def test_refund_events_carry_our_refund_id(stripe):
    event = await stripe.parse_callback(*signed(fx.event("charge.refunded", fx.charge_refunded())))
    assert (event.kind, event.refund_id, event.attempt_id) == (CallbackKind.REFUND, REFUND_ID, ATTEMPT_ID)
    assert (event.result.outcome, event.result.provider_reference) == (Outcome.SUCCEEDED, fx.REFUND_REF)
    failed = await stripe.parse_callback(*signed(fx.event("refund.failed", fx.refund("failed"))))
    assert (failed.kind, failed.result.outcome) == (CallbackKind.REFUND, Outcome.FAILED)


async def test_unexpected_or_foreign_events_are_ignored(stripe):
    customer = {"id": "cus_NffrFeUfNV2Hib", "object": "customer", "email": "jennyrosen@example.com"}
    event = await stripe.parse_callback(*signed(fx.event("customer.created", customer)))
    assert (event.kind, event.event_type) == (CallbackKind.IGNORED, "customer.created")
    dashboard_payment = fx.payment_intent(metadata={})
    event = await stripe.parse_callback(*signed(fx.event("payment_intent.succeeded", dashboard_payment)))
    assert event.kind is CallbackKind.IGNORED
    bad_metadata = fx.payment_intent(metadata={"attempt_id": "not-a-uuid"})
    assert (await stripe.parse_callback(*signed(fx.event("payment_intent.succeeded", bad_metadata)))).kind \
        is CallbackKind.IGNORED
    assert uuid.UUID(fx.OUR_METADATA["attempt_id"]) == ATTEMPT_ID


STRIPE_MISMATCHES = {
    "wrong_amount": ({"amount": 1, "amount_received": 1}, {MismatchReason.AMOUNT}),
    "wrong_currency": ({"currency": "jpy"}, {MismatchReason.CURRENCY}),
    "wrong_reference": ({"id": "pi_someone_elses"}, {MismatchReason.REFERENCE}),
    "other_merchants_attempt": ({"metadata": {"attempt_id": str(ATTEMPT_ID), "order_id": cases.OTHER_ORDER,
                                              "merchant_id": cases.OTHER_MERCHANT}},
                                {MismatchReason.ORDER, MismatchReason.MERCHANT}),
    "unknown_attempt": ({}, {MismatchReason.UNKNOWN_ATTEMPT}),
}


async def test_a_genuine_callback_about_our_payment_matches(stripe):
    intent = fx.payment_intent("succeeded", metadata={**fx.OUR_METADATA, "merchant_id": str(MERCHANT_ID)})
    event = await stripe.parse_callback(*signed(fx.event("payment_intent.succeeded", intent)))
    cases.assert_matches("stripe", fx.PI_ID, event.result)


@pytest.mark.parametrize("case", cases.CASES)
async def test_mismatching_callbacks_and_status_answers_are_refused(api, stripe, case):
    changes, expected = STRIPE_MISMATCHES[case]
    intent = fx.payment_intent("succeeded", **changes)
    event = await stripe.parse_callback(*signed(fx.event("payment_intent.succeeded", intent)))
    assert set(cases.reasons("stripe", fx.PI_ID, event.result, case)) == expected
    api.get(f"/v1/payment_intents/{fx.PI_ID}").respond(200, json=intent)
    status = await stripe.get_status(ATTEMPT_ID, fx.PI_ID)
    assert set(cases.reasons("stripe", fx.PI_ID, status, case, VerdictSource.STATUS)) == expected

"""Stripe response and event bodies, trimmed from the documented shapes, as the pinned
API version (STRIPE_API_VERSION, 2026-10-28.endive) returns them.

PaymentIntent / Refund: stripe/openapi openapi/fixtures3.json ("payment_intent", "refund"),
docs.stripe.com/api/payment_intents/object and the `stripe` package's PaymentIntent class
for that version (allowed/excluded_payment_method_types and automatic_payment_methods on
the intent; payment_method_types only as Stripe's answer); errors: docs.stripe.com/api/errors
(402 card_error carrying the PaymentIntent); events: docs.stripe.com/api/events/object.
"""

from __future__ import annotations

from typing import Any

from app.adapters.providers.stripe import STRIPE_API_VERSION
from tests.integration.providers.builders import ATTEMPT_ID, ORDER_ID, REFUND_ID

PI_ID = "pi_3MtwBwLkdIwHu7ix28a3tqPa"
CHARGE_ID = "ch_3MtwBwLkdIwHu7ix28a3tqPa"
REFUND_REF = "re_1Nispe2eZvKYlo2Cd31jOCgZ"
OUR_METADATA = {"attempt_id": str(ATTEMPT_ID), "order_id": str(ORDER_ID)}


def payment_intent(status: str = "succeeded", **fields: Any) -> dict[str, Any]:
    return {
        "id": PI_ID, "object": "payment_intent", "allowed_payment_method_types": ["card"], "amount": 2000,
        "amount_capturable": 0, "amount_received": 2000 if status == "succeeded" else 0,
        "automatic_payment_methods": {"allow_redirects": "never", "enabled": True}, "capture_method": "automatic",
        "client_secret": f"{PI_ID}_secret_YrKJUKribcBjcG8HVhfZluoGH", "confirmation_method": "automatic",
        "created": 1680800504, "currency": "usd", "customer": None, "description": None,
        "excluded_payment_method_types": None, "last_payment_error": None, "latest_charge": CHARGE_ID, "livemode": False,
        "metadata": dict(OUR_METADATA), "next_action": None, "payment_method": "pm_1MtwBwLkdIwHu7ixAVHiDn6q",
        "payment_method_types": ["card"], "processing": None, "status": status, **fields,
    }


def three_d_secure_redirect(return_url: str = "https://shop.example/back") -> dict[str, Any]:
    """next_action of an intent confirmed server-side with a return_url and no use_stripe_sdk."""
    return {"type": "redirect_to_url", "redirect_to_url": {
        "url": f"https://hooks.stripe.com/3d_secure_2/hosted?merchant=acct_1Nv0FGQ9RKHgCVdK&payment_intent={PI_ID}"
               f"&payment_intent_client_secret={PI_ID}_secret_YrKJUKribcBjcG8HVhfZluoGH&publishable_key=pk_test_51Nv0FG"
               "&source=payatt_3MtwBwLkdIwHu7ix0dHhjQ1W",
        "return_url": return_url}}


def search_result(*intents: dict[str, Any]) -> dict[str, Any]:
    return {"object": "search_result", "data": list(intents), "has_more": False, "next_page": None,
            "url": "/v1/payment_intents/search"}


def card_error(code: str, decline_code: str | None, message: str) -> dict[str, Any]:
    """A 402 body: the error, and the PaymentIntent it left in requires_payment_method."""
    error = {"code": code, "decline_code": decline_code, "doc_url": f"https://stripe.com/docs/error-codes/{code}",
             "message": message, "type": "card_error", "charge": CHARGE_ID,
             "request_log_url": "https://dashboard.stripe.com/test/logs/req_Z1FFIB9PkyaTrY"}
    intent = payment_intent("requires_payment_method", last_payment_error=dict(error), latest_charge=CHARGE_ID)
    return {"error": {**error, "payment_intent": intent}}


def invalid_request(code: str, message: str, param: str) -> dict[str, Any]:
    return {"error": {"code": code, "doc_url": f"https://stripe.com/docs/error-codes/{code}", "message": message,
                      "param": param, "request_log_url": "https://dashboard.stripe.com/test/logs/req_abc",
                      "type": "invalid_request_error"}}


def refund(status: str = "succeeded", **fields: Any) -> dict[str, Any]:
    return {
        "id": REFUND_REF, "object": "refund", "amount": 2000, "balance_transaction": "txn_1Nispe2eZvKYlo2CYezqFhEx",
        "charge": CHARGE_ID, "created": 1692942318, "currency": "usd", "destination_details": None,
        "metadata": {"refund_id": str(REFUND_ID), "attempt_id": str(ATTEMPT_ID)}, "payment_intent": PI_ID,
        "reason": None, "receipt_number": None, "source_transfer_reversal": None, "status": status,
        "transfer_reversal": None, **fields,
    }


def event(event_type: str, obj: dict[str, Any], event_id: str = "evt_1NG8Du2eZvKYlo2CUI79vXWy") -> dict[str, Any]:
    return {
        "id": event_id, "object": "event", "api_version": STRIPE_API_VERSION, "created": 1686089970,
        "data": {"object": obj}, "livemode": False, "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None}, "type": event_type,
    }


def charge_refunded() -> dict[str, Any]:
    """A Charge as charge.refunded carries it when its refunds list is included."""
    return {
        "id": CHARGE_ID, "object": "charge", "amount": 2000, "amount_refunded": 2000, "captured": True,
        "currency": "usd", "metadata": {}, "paid": True, "payment_intent": PI_ID, "refunded": True,
        "refunds": {"object": "list", "data": [refund()], "has_more": False,
                    "url": f"/v1/charges/{CHARGE_ID}/refunds"},
        "status": "succeeded",
    }

"""Stripe response and event bodies, trimmed from the documented shapes.

PaymentIntent / Refund: stripe/openapi openapi/fixtures3.json ("payment_intent", "refund")
and docs.stripe.com/api/payment_intents/object; errors: docs.stripe.com/api/errors
(402 card_error carrying the PaymentIntent); events: docs.stripe.com/api/events/object.
"""

from __future__ import annotations

from typing import Any

from tests.integration.providers.builders import ATTEMPT_ID, ORDER_ID, REFUND_ID

PI_ID = "pi_3MtwBwLkdIwHu7ix28a3tqPa"
CHARGE_ID = "ch_3MtwBwLkdIwHu7ix28a3tqPa"
REFUND_REF = "re_1Nispe2eZvKYlo2Cd31jOCgZ"
OUR_METADATA = {"attempt_id": str(ATTEMPT_ID), "order_id": str(ORDER_ID)}


def payment_intent(status: str = "succeeded", **fields: Any) -> dict[str, Any]:
    return {
        "id": PI_ID, "object": "payment_intent", "amount": 2000, "amount_capturable": 0,
        "amount_received": 2000 if status == "succeeded" else 0, "capture_method": "automatic",
        "client_secret": f"{PI_ID}_secret_YrKJUKribcBjcG8HVhfZluoGH", "confirmation_method": "automatic",
        "created": 1680800504, "currency": "usd", "customer": None, "description": None,
        "last_payment_error": None, "latest_charge": CHARGE_ID, "livemode": False,
        "metadata": dict(OUR_METADATA), "next_action": None, "payment_method": "pm_1MtwBwLkdIwHu7ixAVHiDn6q",
        "payment_method_types": ["card"], "processing": None, "status": status, **fields,
    }


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
        "id": event_id, "object": "event", "api_version": "2024-06-20", "created": 1686089970,
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

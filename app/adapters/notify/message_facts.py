"""What a shopper's message shows, read when it is sent: the order (reference, items,
amount, customer name, delivery estimate), the merchant's name, and the event's own
details (failure code, refunded amount, cancel reason). Every template key is always
present (None when it does not apply): the templates render with StrictUndefined."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from piccolo.engine.postgres import PostgresEngine

from app.domain.ports_notifications import Delivery

FACTS_SQL = """
SELECT o.id, o.merchant_reference, o.amount_minor, o.currency, o.items, o.customer, o.estimated_delivery,
       m.name AS merchant_name, e.payload
FROM orders o JOIN merchants m ON m.id = o.merchant_id
LEFT JOIN outbox e ON e.id = $2
WHERE o.id = $1
"""
# Shoppers read these, not our codes (ActiveMerchant-style failure codes).
FAILURE_REASONS = {
    "card_declined": "the card was declined", "insufficient_funds": "the card has insufficient funds",
    "expired_card": "the card has expired", "invalid_cvc": "the security code was not accepted",
    "incorrect_number": "the card number was not accepted", "fraud_blocked": "it was declined for your security",
    "fraud_rejected": "it was declined for your security", "gateway_timeout": "the payment provider did not answer",
    "processing_error": "the payment could not be processed",
}
PAID_STATES = ("PAYMENT_DONE", "FULFILLMENT_STARTED")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _delivery_date(payload: dict[str, Any], stored: date | None) -> date | None:
    text = payload.get("estimated_delivery")
    return date.fromisoformat(text) if isinstance(text, str) else stored


def facts_of(row: Any) -> dict[str, Any]:
    payload = _json(row["payload"]) or {}
    customer = _json(row["customer"]) or {}
    items = [{"name": item["name"], "quantity": item["quantity"],
              "total_minor": item["quantity"] * item["unit_amount_minor"]} for item in _json(row["items"]) or []]
    estimated = _delivery_date(payload, row["estimated_delivery"])
    code = payload.get("failure_code")
    return {
        "merchant_name": row["merchant_name"], "order_id": str(row["id"]),
        "order_ref": row["merchant_reference"] or str(row["id"]), "customer_name": customer.get("name"),
        "amount_minor": row["amount_minor"], "currency": row["currency"], "items": items,
        "failure_reason": FAILURE_REASONS.get(code, "the payment was not approved") if code else None,
        "refund_amount_minor": payload.get("amount", row["amount_minor"]),
        "refund_currency": payload.get("currency", row["currency"]),
        "cancel_reason": payload.get("reason"), "was_paid": payload.get("previous_status") in PAID_STATES,
        "estimated_delivery": estimated.isoformat() if estimated else None,
        "estimated_delivery_text": f"{estimated:%A} {estimated.day} {estimated:%B %Y}" if estimated else None,
    }


class PiccoloMessageFacts:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine

    async def facts(self, delivery: Delivery) -> dict[str, Any] | None:
        async with self._engine.transaction() as transaction:
            row = await transaction.connection.fetchrow(FACTS_SQL, delivery.order_id, delivery.event_id)
        return facts_of(row) if row is not None else None

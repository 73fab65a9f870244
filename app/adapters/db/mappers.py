"""Row <-> aggregate conversion, kept apart from the queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from app.domain.model.fraud import FraudAction
from app.domain.model.fraud_evaluation import FraudDecision
from app.domain.model.merchant import ApiKey, Merchant
from app.domain.model.money import Money
from app.domain.model.order import Customer, LineItem, Order, OrderStatus
from app.domain.model.mismatch import VerdictMismatch
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.domain.model.refund import Refund, RefundPurpose, RefundStatus
from app.domain.model.provider import ReportedPayment

_encode = msgspec.json.encode


def order_to_row(order: Order) -> dict[str, Any]:
    return {
        "id": order.id,
        "merchant_id": order.merchant_id,
        "merchant_reference": order.merchant_reference,
        "status": order.status.value,
        "amount_minor": order.amount.amount_minor,
        "currency": order.amount.currency,
        "items": _encode([_item(item) for item in order.items]).decode(),
        "customer": _encode(_customer(order.customer)).decode(),
        "description": order.description,
        "attempt_count": order.attempt_count,
        "estimated_delivery": order.estimated_delivery,
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "status_reason": order.status_reason,
        "user_id": order.user_id,
    }


def _item(item: LineItem) -> dict[str, Any]:
    return {"name": item.name, "quantity": item.quantity, "unit_amount_minor": item.unit_amount_minor,
            "sku": item.sku}


def _customer(customer: Customer) -> dict[str, Any]:
    return {"email": customer.email, "name": customer.name, "phone": customer.phone}


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, (str, bytes)) else value


def order_from_row(row: dict[str, Any]) -> Order:
    return Order(
        id=row["id"],
        merchant_id=row["merchant_id"],
        amount=Money(row["amount_minor"], row["currency"]),
        items=[LineItem(**item) for item in _json(row["items"])],
        customer=Customer(**_json(row["customer"])),
        status=OrderStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        merchant_reference=row["merchant_reference"],
        description=row["description"],
        attempt_count=row["attempt_count"],
        estimated_delivery=row["estimated_delivery"],
        status_reason=row["status_reason"],
        user_id=row.get("user_id"),
    )


def attempt_to_row(attempt: PaymentAttempt) -> dict[str, Any]:
    row = {name: getattr(attempt, name) for name in ATTEMPT_PLAIN_FIELDS}
    row.update(status=attempt.status.value, amount_minor=attempt.amount.amount_minor,
               currency=attempt.amount.currency)
    fraud = attempt.fraud
    row.update(fraud_action=fraud.action.value if fraud else None, fraud_rule=fraud.rule_id if fraud else None,
               fraud_score=fraud.score if fraud else None,
               fraud_reasons=_encode(list(fraud.reasons)).decode() if fraud else None)
    return row


ATTEMPT_PLAIN_FIELDS = (
    "id", "order_id", "merchant_id", "provider", "attempt_number", "card_brand", "card_last4",
    "provider_reference", "redirect_url", "return_url", "failure_code", "failure_message", "created_at", "updated_at",
    "card_fingerprint",
)


def attempt_from_row(row: dict[str, Any]) -> PaymentAttempt:
    return PaymentAttempt(
        amount=Money(row["amount_minor"], row["currency"]),
        status=AttemptStatus(row["status"]),
        fraud=fraud_from_row(row),
        **{name: row[name] for name in ATTEMPT_PLAIN_FIELDS},
    )


def fraud_from_row(row: dict[str, Any]) -> FraudDecision | None:
    if row["fraud_action"] is None:
        return None
    return FraudDecision(FraudAction(row["fraud_action"]), row["fraud_rule"], row["fraud_score"],
                         tuple(_json(row["fraud_reasons"]) or ()))


REFUND_PLAIN_FIELDS = (
    "id", "order_id", "payment_id", "merchant_id", "provider", "provider_reference",
    "failure_code", "failure_message", "created_at", "updated_at",
    "target_reference", "attempts", "next_attempt_at", "last_error",
)


def refund_to_row(refund: Refund) -> dict[str, Any]:
    row = {name: getattr(refund, name) for name in REFUND_PLAIN_FIELDS}
    row.update(status=refund.status.value, amount_minor=refund.amount.amount_minor, currency=refund.amount.currency,
               purpose=refund.purpose.value)
    return row


def refund_from_row(row: Any) -> Refund:
    return Refund(
        amount=Money(row["amount_minor"], row["currency"]),
        status=RefundStatus(row["status"]),
        purpose=RefundPurpose(row["purpose"]),
        **{name: row[name] for name in REFUND_PLAIN_FIELDS},
    )


REPORTED_FIELDS = ("amount_minor", "currency", "attempt_id", "order_id", "merchant_id")
MISMATCH_PLAIN_FIELDS = ("id", "provider", "source", "event_id", "attempt_id", "merchant_id", "outcome",
                         "reported_reference", "refund_id", "created_at")


def mismatch_to_row(mismatch: VerdictMismatch) -> dict[str, Any]:
    row = {name: getattr(mismatch, name) for name in MISMATCH_PLAIN_FIELDS}
    row.update({f"reported_{name}": getattr(mismatch.reported, name) for name in REPORTED_FIELDS})
    row["reasons"] = list(mismatch.reasons)
    return row


def mismatch_from_row(row: Any) -> VerdictMismatch:
    reported = ReportedPayment(**{name: row[f"reported_{name}"] for name in REPORTED_FIELDS})
    return VerdictMismatch(reasons=tuple(row["reasons"]), reported=reported,
                           **{name: row[name] for name in MISMATCH_PLAIN_FIELDS})


MERCHANT_FIELDS = ("id", "name", "api_key_hash", "created_at", "webhook_url", "webhook_secret", "webhook_enabled",
                   "active", "previous_webhook_secret", "previous_webhook_secret_expires_at", "updated_at",
                   "api_key_rotation_id", "webhook_secret_rotation_id")


def merchant_to_row(merchant: Merchant) -> dict[str, Any]:
    return {name: getattr(merchant, name) for name in MERCHANT_FIELDS}


def merchant_from_row(row: dict[str, Any], keys: Sequence[dict[str, Any]] = ()) -> Merchant:
    api_keys = [ApiKey(key["key_hash"], key["created_at"], key["expires_at"]) for key in keys]
    return Merchant(**{name: row[name] for name in MERCHANT_FIELDS}, api_keys=api_keys)

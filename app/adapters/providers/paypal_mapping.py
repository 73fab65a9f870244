"""PayPal Orders v2 / Payments v2 objects -> our normalised results.

Shapes from developer.paypal.com/docs/api/orders/v2 (order, purchase_unit.payments.captures,
order_status), /api/payments/v2 (capture, refund) and /api/rest/responses (error body:
`{"name", "message", "debug_id", "details": [{"issue", "description"}]}`).
"""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal, InvalidOperation

from app.adapters.providers.http import JsonObject
from app.domain.model.money import CURRENCY_EXPONENTS, Money
from app.domain.model.payment import FailureCode as F
from app.domain.model.provider import Outcome, ProviderResult, ReportedPayment

# PayPal takes these in whole units although ISO 4217 gives them two decimals
# (developer.paypal.com/api/rest/reference/currency-codes).
WHOLE_UNIT_CURRENCIES = {"HUF", "TWD"}

ISSUE_CODES: dict[str, F] = {
    "INSTRUMENT_DECLINED": F.CARD_DECLINED, "TRANSACTION_REFUSED": F.CARD_DECLINED,
    "PAYER_CANNOT_PAY": F.CARD_DECLINED, "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING": F.CARD_DECLINED,
    "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED": F.CARD_DECLINED,
    "CARD_EXPIRED": F.EXPIRED_CARD,
    "COMPLIANCE_VIOLATION": F.FRAUD_BLOCKED, "PAYEE_BLOCKED_TRANSACTION": F.FRAUD_BLOCKED,
}
# The payer has not finished approving: not a failure, the order is still waiting.
STILL_WAITING_ISSUES = {"ORDER_NOT_APPROVED", "PAYER_ACTION_REQUIRED"}


def paypal_amount(money: Money) -> JsonObject:
    """`{"currency_code", "value"}` with the decimals the currency has (JPY none, KWD three)."""
    exponent = money.exponent
    minor = money.amount_minor
    if money.currency in WHOLE_UNIT_CURRENCIES:
        if minor % 10**exponent:
            raise ValueError(f"PayPal takes {money.currency} in whole units only")
        minor, exponent = minor // 10**exponent, 0
    if exponent == 0:
        value = str(minor)
    else:
        units, fraction = divmod(minor, 10**exponent)
        value = f"{units}.{fraction:0{exponent}d}"
    return {"currency_code": money.currency, "value": value}


def link(obj: JsonObject, *rels: str) -> str | None:
    for item in obj.get("links") or []:
        if isinstance(item, dict) and item.get("rel") in rels:
            return item.get("href")
    return None


def first_capture(order: JsonObject) -> JsonObject | None:
    for unit in order.get("purchase_units") or []:
        for capture in ((unit or {}).get("payments") or {}).get("captures") or []:
            if isinstance(capture, dict):
                return capture
    return None


def minor_units(amount: object) -> tuple[int | None, str | None]:
    """PayPal's `{"currency_code", "value"}` back in minor units (None where unreadable).
    Whole-unit currencies (HUF, TWD) come without decimals but are still worth 10**exponent."""
    if not isinstance(amount, dict) or not isinstance(amount.get("currency_code"), str):
        return None, None
    currency = amount["currency_code"].upper()
    if currency not in CURRENCY_EXPONENTS:
        return None, currency
    try:
        scaled = Decimal(str(amount.get("value"))) * 10 ** CURRENCY_EXPONENTS[currency]
    except InvalidOperation:
        return None, currency
    whole = scaled.is_finite() and scaled == scaled.to_integral_value()
    return (int(scaled) if whole else None), currency


def with_reported(result: ProviderResult, unit: JsonObject | None, capture: JsonObject | None) -> ProviderResult:
    """What PayPal says was paid: the capture's amount (else the purchase unit's), our
    attempt id (custom_id, and invoice_id which PayPal keeps unique) and order (reference_id)."""
    unit, capture = unit or {}, capture or {}
    amount_minor, currency = minor_units(capture.get("amount") or unit.get("amount"))
    bound = custom_uuid(capture) or custom_uuid(unit)
    invoice = _uuid((capture.get("invoice_id") or unit.get("invoice_id")))
    attempt_id = bound if invoice is None or invoice == bound else uuid.UUID(int=0)
    return dataclasses.replace(result, reported=ReportedPayment(
        amount_minor, currency, attempt_id, _uuid(unit.get("reference_id"))))


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return uuid.UUID(int=0)  # present but none of our ids: matches no attempt


def custom_uuid(obj: JsonObject | None) -> uuid.UUID | None:
    value = (obj or {}).get("custom_id")
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def result_from_capture(capture: JsonObject, order_id: str | None) -> ProviderResult:
    """Our provider_reference for PayPal is always the order id (refunds look the capture up)."""
    status = capture.get("status")
    if status in ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED"):  # the money did move
        return ProviderResult(Outcome.SUCCEEDED, order_id)
    if status == "PENDING":
        reason = (capture.get("status_details") or {}).get("reason")
        return ProviderResult(Outcome.PENDING, order_id, failure_message=f"capture pending ({reason})")
    if status in ("DECLINED", "FAILED"):
        return ProviderResult(Outcome.FAILED, order_id, F.CARD_DECLINED, f"capture {status.lower()}")
    return ProviderResult(Outcome.UNKNOWN, order_id, failure_message=f"unexpected capture status {status!r}")


def result_from_order(order: JsonObject) -> ProviderResult:
    """An order that needs no further call from us (APPROVED ones are captured first)."""
    units = [u for u in order.get("purchase_units") or [] if isinstance(u, dict)]
    return with_reported(_order_verdict(order), units[0] if units else None, first_capture(order))


def _order_verdict(order: JsonObject) -> ProviderResult:
    status, order_id = order.get("status"), order.get("id")
    if status in ("CREATED", "SAVED", "PAYER_ACTION_REQUIRED", "APPROVED"):
        return ProviderResult(Outcome.PENDING, order_id, redirect_url=link(order, "payer-action", "approve"))
    if status == "COMPLETED":
        capture = first_capture(order)
        if capture is None:
            return ProviderResult(Outcome.UNKNOWN, order_id, failure_message="completed order without capture")
        return result_from_capture(capture, order_id)
    if status == "VOIDED":
        return ProviderResult(Outcome.FAILED, order_id, F.PAYER_ACTION_DENIED, "order voided")
    return ProviderResult(Outcome.UNKNOWN, order_id, failure_message=f"unexpected order status {status!r}")


def result_from_refund(refund: JsonObject) -> ProviderResult:
    status, reference = refund.get("status"), refund.get("id")
    if status == "COMPLETED":
        return ProviderResult(Outcome.SUCCEEDED, reference)
    if status == "PENDING":
        return ProviderResult(Outcome.PENDING, reference)
    if status in ("CANCELLED", "FAILED"):
        return ProviderResult(Outcome.FAILED, reference, F.PROCESSING_ERROR, f"refund {status.lower()}")
    return ProviderResult(Outcome.UNKNOWN, reference, failure_message=f"unexpected refund status {status!r}")


def error_issue(body: JsonObject | None) -> str | None:
    for detail in (body or {}).get("details") or []:
        if isinstance(detail, dict) and isinstance(detail.get("issue"), str):
            return detail["issue"]
    return (body or {}).get("name") if isinstance((body or {}).get("name"), str) else None


def result_from_error(status_code: int, body: JsonObject | None, reference: str | None = None) -> ProviderResult:
    """A 4xx verdict: a decline family or a request PayPal would not accept."""
    issue = error_issue(body)
    if issue in STILL_WAITING_ISSUES:
        return ProviderResult(Outcome.PENDING, reference, failure_message=issue)
    code = ISSUE_CODES.get(issue or "", F.INVALID_REQUEST)
    detail = next((d.get("description") for d in (body or {}).get("details") or [] if isinstance(d, dict)), None)
    message = f"{issue or 'HTTP ' + str(status_code)}: {detail or (body or {}).get('message') or ''}".rstrip(": ")
    return ProviderResult(Outcome.FAILED, reference, code, message)

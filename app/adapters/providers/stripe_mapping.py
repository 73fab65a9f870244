"""Stripe objects -> our normalised results.

Shapes from the Stripe API reference (docs.stripe.com/api/payment_intents/object,
/api/refunds/object, /api/errors, /api/events) and the fixtures of stripe/openapi
(openapi/fixtures3.json). Codes from docs.stripe.com/error-codes and /declines/codes.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from app.adapters.providers.errors import ProviderServerError
from app.adapters.providers.http import JsonObject, own_search_results
from app.domain.model.money import Money
from app.domain.model.payment import FailureCode as F
from app.domain.model.provider import Outcome, ProviderResult, ReportedPayment

PROVIDER = "stripe"

# `decline_code` (issuer's reason) is consulted first, then the error `code`.
FAILURE_CODES: dict[str, F] = {
    "generic_decline": F.CARD_DECLINED, "do_not_honor": F.CARD_DECLINED, "card_declined": F.CARD_DECLINED,
    "card_velocity_exceeded": F.CARD_DECLINED, "withdrawal_count_limit_exceeded": F.CARD_DECLINED,
    "card_not_supported": F.CARD_DECLINED, "transaction_not_allowed": F.CARD_DECLINED,
    "insufficient_funds": F.INSUFFICIENT_FUNDS,
    "expired_card": F.EXPIRED_CARD,
    "incorrect_cvc": F.INVALID_CVC, "invalid_cvc": F.INVALID_CVC,
    "incorrect_number": F.INCORRECT_NUMBER, "invalid_number": F.INCORRECT_NUMBER, "invalid_account": F.INCORRECT_NUMBER,
    "lost_card": F.LOST_OR_STOLEN, "stolen_card": F.LOST_OR_STOLEN, "pickup_card": F.LOST_OR_STOLEN,
    "fraudulent": F.FRAUD_BLOCKED, "merchant_blacklist": F.FRAUD_BLOCKED, "security_violation": F.FRAUD_BLOCKED,
    "processing_error": F.PROCESSING_ERROR, "issuer_not_available": F.PROCESSING_ERROR,
    "try_again_later": F.PROCESSING_ERROR, "reenter_transaction": F.PROCESSING_ERROR,
    # 3-D Secure: needed but impossible (no return_url: error_on_requires_action), or refused.
    "authentication_required": F.AUTHENTICATION_REQUIRED, "authentication_not_handled": F.AUTHENTICATION_REQUIRED,
    "payment_intent_authentication_failure": F.AUTHENTICATION_REQUIRED,
}


def failure_code(error: JsonObject) -> str:
    for key in ("decline_code", "code"):
        if (code := FAILURE_CODES.get(str(error.get(key)))) is not None:
            return code
    return F.CARD_DECLINED if error.get("type") == "card_error" else F.INVALID_REQUEST


def failed(error: JsonObject, reference: str | None = None) -> ProviderResult:
    message = error.get("message") if isinstance(error.get("message"), str) else None
    return ProviderResult(Outcome.FAILED, reference, failure_code(error), message)


def redirect_url(intent: JsonObject) -> str | None:
    action = intent.get("next_action") or {}
    if action.get("type") == "redirect_to_url":
        return (action.get("redirect_to_url") or {}).get("url")
    return None


def result_from_search(body: JsonObject, attempt_id: uuid.UUID, amount: Money) -> ProviderResult:
    """The verdict of the intent in a search answer that is provably this attempt's."""
    ours, _ = own_search_results(PROVIDER, body, attempt_id, lambda intent: belongs_to(intent, attempt_id, amount))
    if not ours:
        return ProviderResult(Outcome.UNKNOWN, None, failure_message="no PaymentIntent found for this attempt")
    return result_from_intent(ours[0])


def belongs_to(intent: JsonObject, attempt_id: uuid.UUID, amount: Money) -> bool:
    currency = intent.get("currency")
    return (metadata_uuid(intent, "attempt_id") == attempt_id
            and intent.get("amount") == amount.amount_minor
            and isinstance(currency, str) and currency.upper() == amount.currency)


def result_from_intent(intent: JsonObject) -> ProviderResult:
    return with_reported(_intent_verdict(intent), intent)


def with_reported(result: ProviderResult, intent: JsonObject) -> ProviderResult:
    """What the PaymentIntent says it is: the amount received (or asked, before capture),
    its currency and the metadata we created it with."""
    received, amount = intent.get("amount_received"), intent.get("amount")
    captured = received if isinstance(received, int) and received > 0 else amount
    currency = intent.get("currency")
    return dataclasses.replace(result, reported=ReportedPayment(
        captured if isinstance(captured, int) else None, currency.upper() if isinstance(currency, str) else None,
        metadata_uuid(intent, "attempt_id"), metadata_uuid(intent, "order_id"), metadata_uuid(intent, "merchant_id")))


def _intent_verdict(intent: JsonObject) -> ProviderResult:
    status, reference = intent.get("status"), intent.get("id")
    if status == "succeeded":
        return ProviderResult(Outcome.SUCCEEDED, reference)
    if status in ("processing", "requires_action", "requires_confirmation", "requires_capture"):
        # requires_action: the shopper must authenticate (3-D Secure); redirect_to_url says
        # where, when we gave a return_url. The verdict comes by webhook or status poll.
        return ProviderResult(Outcome.PENDING, reference, redirect_url=redirect_url(intent))
    if status == "requires_payment_method":
        error = intent.get("last_payment_error")
        # Without an error it was never confirmed: nothing has been decided yet.
        return failed(error, reference) if error else ProviderResult(Outcome.PENDING, reference)
    if status == "canceled":
        return ProviderResult(Outcome.FAILED, reference, F.PROCESSING_ERROR,
                              f"payment intent canceled ({intent.get('cancellation_reason')})")
    return ProviderResult(Outcome.UNKNOWN, reference, failure_message=f"unexpected status {status!r}")


def result_from_refund(refund: JsonObject) -> ProviderResult:
    status, reference = refund.get("status"), refund.get("id")
    if status == "succeeded":
        return ProviderResult(Outcome.SUCCEEDED, reference)
    if status in ("pending", "requires_action"):
        return ProviderResult(Outcome.PENDING, reference)
    if status in ("failed", "canceled"):
        return ProviderResult(Outcome.FAILED, reference, F.PROCESSING_ERROR,
                              f"refund {status} ({refund.get('failure_reason')})")
    return ProviderResult(Outcome.UNKNOWN, reference, failure_message=f"unexpected status {status!r}")


def result_from_error(status_code: int, body: JsonObject | None) -> ProviderResult:
    """A 4xx answer. Card declines come as 402 with the PaymentIntent attached."""
    error: JsonObject = (body or {}).get("error") or {}
    if status_code == 409 and error.get("code") == "idempotency_key_in_use":
        # Our earlier request with this key is still running: no verdict yet, retry later.
        raise ProviderServerError(PROVIDER, "idempotency key in use by a request in flight", 409)
    if status_code == 424:  # a dependency of Stripe failed: no verdict
        raise ProviderServerError(PROVIDER, "external dependency failed (424)", 424)
    intent = error.get("payment_intent") or {}
    result = failed(error or {"message": f"HTTP {status_code}"}, intent.get("id"))
    return with_reported(result, intent) if intent else result


def metadata_uuid(obj: JsonObject, key: str) -> uuid.UUID | None:
    value: Any = (obj.get("metadata") or {}).get(key)
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None

"""Whether a provider's verdict may be applied to an attempt (SPEC section 5).

A verdict — a callback, a status look-up, the synchronous answer to a purchase — names an
attempt of ours, but only its provider says so. It is applied only when what it reports
matches what the attempt asked for: the provider, the provider reference once known,
our attempt id as the provider bound it, amount, currency, order and merchant. Pure:
the settlement use case calls it for every source."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from app.domain.model.money import CURRENCY_EXPONENTS, Money
from app.domain.model.payment import PaymentAttempt
from app.domain.model.provider import Outcome, ProviderResult, ReportedPayment


class VerdictSource(StrEnum):
    PURCHASE = "purchase"  # the synchronous answer to our request
    STATUS = "status"  # a status look-up by reconciliation
    CALLBACK = "callback"  # a signed provider callback


class MismatchReason(StrEnum):
    UNKNOWN_ATTEMPT = "unknown_attempt"
    PROVIDER = "provider"
    REFERENCE = "reference"
    ATTEMPT = "attempt"
    AMOUNT = "amount"
    CURRENCY = "currency"
    ORDER = "order"
    MERCHANT = "merchant"


@dataclass(frozen=True, slots=True)
class VerdictOrigin:
    """Who delivered a verdict and how; our own decisions (a give-up) have none."""

    provider: str
    source: VerdictSource
    event_id: str | None = None


def verdict_mismatches(attempt: PaymentAttempt | None, origin: VerdictOrigin,
                       result: ProviderResult) -> tuple[MismatchReason, ...]:
    """Every way the verdict disagrees with the attempt; empty when it may be applied.
    A success must report its amount and currency: money we cannot check is not accepted."""
    if attempt is None:
        return (MismatchReason.UNKNOWN_ATTEMPT,)
    reported = result.reported or ReportedPayment()
    success = result.outcome is Outcome.SUCCEEDED
    reasons: list[MismatchReason] = []
    if origin.provider != attempt.provider:
        reasons.append(MismatchReason.PROVIDER)
    if attempt.provider_reference and result.provider_reference \
            and result.provider_reference != attempt.provider_reference:
        reasons.append(MismatchReason.REFERENCE)
    if _differs(reported.attempt_id, attempt.id):
        reasons.append(MismatchReason.ATTEMPT)
    if _differs(reported.amount_minor, attempt.amount.amount_minor) or (success and reported.amount_minor is None):
        reasons.append(MismatchReason.AMOUNT)
    currency = reported.currency.upper() if reported.currency else None
    if _differs(currency, attempt.amount.currency) or (success and currency is None):
        reasons.append(MismatchReason.CURRENCY)
    if _differs(reported.order_id, attempt.order_id):
        reasons.append(MismatchReason.ORDER)
    if _differs(reported.merchant_id, attempt.merchant_id):
        reasons.append(MismatchReason.MERCHANT)
    return tuple(reasons)


def _differs(reported: object, expected: object) -> bool:
    return reported is not None and reported != expected


def unrequested_capture(attempt: PaymentAttempt, origin: VerdictOrigin,
                        result: ProviderResult) -> tuple[str, Money] | None:
    """(reference, amount) of money a mismatching verdict says was captured for a payment
    that is not the attempt's own: not ours to keep, so it is refunded. None when it
    reports no capture, one we could not address or measure, or the attempt's own capture
    with contradicting facts (refunding on the strength of those could refund the wrong
    amount of the right payment): an operator settles those from the mismatch record."""
    reported = result.reported or ReportedPayment()
    if result.outcome is not Outcome.SUCCEEDED or not result.provider_reference:
        return None
    if origin.provider == attempt.provider and result.provider_reference == attempt.provider_reference:
        return None
    currency = (reported.currency or "").upper()
    if currency not in CURRENCY_EXPONENTS or not isinstance(reported.amount_minor, int) \
            or reported.amount_minor <= 0:
        return None
    return result.provider_reference, Money(reported.amount_minor, currency)


def operators_merchant() -> uuid.UUID:
    """Events for operators carry no merchant: no merchant's webhook or event list sees them."""
    return uuid.UUID(int=0)

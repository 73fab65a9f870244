"""What a payment provider is asked and what it answers, normalised across providers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from app.domain.model.card import PaymentMethod
from app.domain.model.money import Money


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"  # accepted; the verdict comes later (callback or status poll)
    UNKNOWN = "unknown"  # we cannot tell (timeout, 5xx): reconciliation must find out


@dataclass(frozen=True, slots=True)
class PaymentRequest:
    attempt_id: uuid.UUID  # also the provider-side idempotency key
    order_id: uuid.UUID
    merchant_id: uuid.UUID
    amount: Money
    payment_method: PaymentMethod
    description: str | None = None
    return_url: str | None = None


@dataclass(frozen=True, slots=True)
class RefundRequest:
    refund_id: uuid.UUID  # also the provider-side idempotency key
    attempt_id: uuid.UUID
    provider_reference: str | None
    amount: Money


@dataclass(frozen=True, slots=True)
class ReportedPayment:
    """What the provider says the payment it judged is: the facts a verdict is checked
    against before it may touch an attempt. None: this answer did not say."""

    amount_minor: int | None = None
    currency: str | None = None
    attempt_id: uuid.UUID | None = None  # our id as the provider bound it (idempotency key, invoice id)
    order_id: uuid.UUID | None = None
    merchant_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class ProviderResult:
    outcome: Outcome
    provider_reference: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    redirect_url: str | None = None  # where the shopper approves (PayPal)
    reported: ReportedPayment | None = None


class CallbackKind(StrEnum):
    PAYMENT = "payment"
    REFUND = "refund"
    IGNORED = "ignored"  # a verified event type we do not act on


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    """A verified, normalised provider callback."""

    event_id: str  # the provider's own event id: the dedupe key
    kind: CallbackKind
    result: ProviderResult
    attempt_id: uuid.UUID | None = None
    refund_id: uuid.UUID | None = None
    event_type: str | None = None  # the provider's own name for the event, for logs

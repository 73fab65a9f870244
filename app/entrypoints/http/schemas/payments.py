"""Payment and refund response schemas."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from app.domain.model.card import CardDetails, CardToken
from app.domain.model.fraud import FraudAction
from app.domain.model.fraud_evaluation import FraudDecision
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.domain.model.refund import RefundStatus
from app.domain.model.refund import Refund as RefundModel
from app.entrypoints.http.schemas import patterns


class Payment(msgspec.Struct):
    id: uuid.UUID
    order_id: uuid.UUID
    provider: str
    status: AttemptStatus
    amount: int
    currency: str
    attempt_number: int
    card_brand: str | None
    card_last4: str | None
    provider_reference: str | None
    redirect_url: str | None  # where the shopper must go to approve (3-D Secure, PayPal); PENDING until then
    return_url: str | None
    failure_code: str | None
    failure_message: str | None
    created_at: datetime
    updated_at: datetime
    card_fingerprint: str | None = None  # the same card, the same fingerprint (block lists use it)
    fraud: FraudVerdict | None = None  # the fraud rules' verdict; null when screening is off

    @classmethod
    def from_domain(cls, a: PaymentAttempt) -> Payment:
        return cls(a.id, a.order_id, a.provider, a.status, a.amount.amount_minor, a.amount.currency,
                   a.attempt_number, a.card_brand, a.card_last4, a.provider_reference, a.redirect_url,
                   a.return_url, a.failure_code, a.failure_message, a.created_at, a.updated_at,
                   a.card_fingerprint, FraudVerdict.from_domain(a.fraud))


class FraudVerdict(msgspec.Struct):
    action: FraudAction
    rule_id: str | None  # the first rule that matched, by priority; null when none did
    risk_score: int  # 0-100: the highest risk of every rule that matched
    reasons: list[str]  # every rule that matched, and why

    @classmethod
    def from_domain(cls, decision: FraudDecision | None) -> FraudVerdict | None:
        if decision is None:
            return None
        return cls(decision.action, decision.rule_id, decision.score, list(decision.reasons))


class Refund(msgspec.Struct):
    id: uuid.UUID
    order_id: uuid.UUID
    payment_id: uuid.UUID
    status: RefundStatus
    amount: int
    currency: str
    failure_code: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, r: RefundModel) -> Refund:
        return cls(r.id, r.order_id, r.payment_id, r.status, r.amount.amount_minor, r.amount.currency,
                   r.failure_code, r.created_at, r.updated_at)


class CardIn(msgspec.Struct, tag="card", tag_field="type", forbid_unknown_fields=True):
    """Raw card details: checked (Luhn, expiry), sent to the provider, never stored."""

    number: Annotated[str, Meta(pattern=patterns.CARD_NUMBER)]
    exp_month: Annotated[int, Meta(ge=1, le=12)]
    exp_year: Annotated[int, Meta(ge=0, le=9999)]
    cvc: Annotated[str, Meta(pattern=patterns.CVC)]

    def to_domain(self, today: date) -> CardDetails:
        return CardDetails.parse(self.number, self.exp_month, self.exp_year, self.cvc, today)


class CardTokenIn(msgspec.Struct, tag="card_token", tag_field="type", forbid_unknown_fields=True):
    token: Annotated[str, Meta(min_length=4, max_length=128, pattern=patterns.TOKEN)]

    def to_domain(self, today: date) -> CardToken:
        return CardToken(self.token)


PaymentMethodIn = CardIn | CardTokenIn
ProviderName = Annotated[str, Meta(pattern=patterns.PROVIDER, examples=["sandbox"])]
# Checked in full (https, or http to loopback in test/dev) by the use case: 422 invalid_return_url.
ReturnUrl = Annotated[str, Meta(min_length=1, max_length=2048, examples=["https://shop.example/orders/42/paid"],
                                description="Where a provider that sends the shopper away (3-D Secure, PayPal "
                                            "approval) sends them back")]


class PaymentCreate(msgspec.Struct, forbid_unknown_fields=True):
    order_id: uuid.UUID
    provider: ProviderName = "sandbox"
    payment_method: PaymentMethodIn | None = None
    return_url: ReturnUrl | None = None


class PaymentRetry(msgspec.Struct, forbid_unknown_fields=True):
    payment_method: PaymentMethodIn | None = None
    return_url: ReturnUrl | None = None


def method_to_domain(method: PaymentMethodIn | None) -> CardDetails | CardToken | None:
    return method.to_domain(datetime.now(UTC).date()) if method is not None else None


class CallbackAck(msgspec.Struct):
    status: str

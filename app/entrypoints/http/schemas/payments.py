"""Payment and refund response schemas."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from app.domain.model.payment import AttemptStatus, PaymentAttempt, RefundStatus
from app.domain.model.payment import Refund as RefundModel


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
    redirect_url: str | None
    failure_code: str | None
    failure_message: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, a: PaymentAttempt) -> Payment:
        return cls(a.id, a.order_id, a.provider, a.status, a.amount.amount_minor, a.amount.currency,
                   a.attempt_number, a.card_brand, a.card_last4, a.provider_reference, a.redirect_url,
                   a.failure_code, a.failure_message, a.created_at, a.updated_at)


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

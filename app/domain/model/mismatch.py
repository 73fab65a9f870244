"""A provider verdict that did not match its attempt: never applied, kept for operators."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.events import DomainEvent, EventRecorder
from app.domain.model.payment import PaymentAttempt
from app.domain.model.provider import ProviderResult, ReportedPayment
from app.domain.model.verdict import MismatchReason, VerdictOrigin, operators_merchant


@dataclass(eq=False, slots=True)
class VerdictMismatch(EventRecorder):
    id: uuid.UUID
    provider: str
    source: str
    event_id: str | None
    attempt_id: uuid.UUID | None  # the attempt the verdict named (None: not one of ours)
    merchant_id: uuid.UUID | None  # that attempt's merchant
    reasons: tuple[str, ...]
    outcome: str
    reported_reference: str | None
    reported: ReportedPayment
    created_at: datetime
    refund_id: uuid.UUID | None = None  # the refund of the capture it reported, if any
    events: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def record_of(cls, origin: VerdictOrigin, attempt_id: uuid.UUID | None, attempt: PaymentAttempt | None,
                  result: ProviderResult, reasons: tuple[MismatchReason, ...], now: datetime) -> VerdictMismatch:
        return cls(uuid.uuid4(), origin.provider, origin.source.value, origin.event_id, attempt_id,
                   attempt.merchant_id if attempt else None, tuple(r.value for r in reasons),
                   result.outcome.value, result.provider_reference, result.reported or ReportedPayment(), now)

    def refunded_by(self, refund_id: uuid.UUID | None) -> None:
        self.refund_id = refund_id

    def announce(self) -> None:
        """The operators' event (`payment.verdict_mismatch`), written with the record."""
        reported = self.reported
        self.record("payment.verdict_mismatch", self.id, operators_merchant(), self.created_at,
                    mismatch_id=str(self.id), provider=self.provider, source=self.source, event_id=self.event_id,
                    payment_id=str(self.attempt_id) if self.attempt_id else None,
                    attempt_merchant_id=str(self.merchant_id) if self.merchant_id else None,
                    reasons=list(self.reasons), outcome=self.outcome, reported_reference=self.reported_reference,
                    reported_amount=reported.amount_minor, reported_currency=reported.currency,
                    refund_id=str(self.refund_id) if self.refund_id else None)

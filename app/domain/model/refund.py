"""Refunds (SPEC section 3): their own records, PENDING -> SUCCESS | FAILED, each aimed at
one capture and retried on a schedule kept on the record until it succeeds or an operator
takes over."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.errors import InvalidStateTransition
from app.domain.events import DomainEvent, EventRecorder
from app.domain.ids import new_id
from app.domain.model.money import Money
from app.domain.model.payment import PaymentAttempt


class RefundStatus(StrEnum):
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


class RefundPurpose(StrEnum):
    CANCELLATION = "cancellation"  # a paid order was cancelled
    LATE_CAPTURE = "late_capture"  # the attempt's capture came after we had failed it
    UNREQUESTED_CAPTURE = "unrequested_capture"  # a mismatching verdict reported money we did not ask for


# A refund whose dispatch was lost (process killed after commit) is picked up by the
# retry job this long after it was requested.
FIRST_DISPATCH_GRACE = timedelta(seconds=60)


@dataclass(eq=False, slots=True)
class Refund(EventRecorder):
    id: uuid.UUID
    order_id: uuid.UUID
    payment_id: uuid.UUID
    merchant_id: uuid.UUID
    provider: str
    amount: Money
    status: RefundStatus
    created_at: datetime
    updated_at: datetime
    provider_reference: str | None = None  # the refund's own id at the provider
    failure_code: str | None = None
    failure_message: str | None = None
    # The capture to refund: the attempt's own (bound from a matching verdict), or the
    # one a mismatching verdict reported. Never taken from an unverified callback.
    target_reference: str | None = None
    purpose: RefundPurpose = RefundPurpose.CANCELLATION
    attempts: int = 0  # tries that ended without the money back
    next_attempt_at: datetime | None = None  # when the retry job asks the provider (again)
    last_error: str | None = None
    events: list[DomainEvent] = field(default_factory=list)

    def _event(self, type_: str, now: datetime, **payload: object) -> None:
        self.record(type_, self.id, self.merchant_id, now, refund_id=str(self.id), order_id=str(self.order_id),
                    payment_id=str(self.payment_id), amount=self.amount.amount_minor,
                    currency=self.amount.currency, purpose=self.purpose.value, **payload)

    @classmethod
    def request(cls, attempt: PaymentAttempt, now: datetime,
                purpose: RefundPurpose = RefundPurpose.CANCELLATION) -> Refund:
        """Refund the capture the attempt made, whole."""
        return cls._new(attempt, attempt.provider, attempt.amount, attempt.provider_reference, purpose, now)

    @classmethod
    def of_unrequested_capture(cls, attempt: PaymentAttempt, provider: str, reference: str, amount: Money,
                               now: datetime) -> Refund:
        """Give back money a provider captured that no attempt of ours asked for; filed
        under the attempt the verdict named, for the operators' trail."""
        return cls._new(attempt, provider, amount, reference, RefundPurpose.UNREQUESTED_CAPTURE, now)

    @classmethod
    def _new(cls, attempt: PaymentAttempt, provider: str, amount: Money, target: str | None,
             purpose: RefundPurpose, now: datetime) -> Refund:
        refund = cls(new_id(), attempt.order_id, attempt.id, attempt.merchant_id, provider, amount,
                     RefundStatus.PENDING, now, now, target_reference=target, purpose=purpose,
                     next_attempt_at=now + FIRST_DISPATCH_GRACE)
        refund._event("refund.requested", now)
        return refund

    def settle(self, now: datetime, succeeded: bool, code: str | None = None, message: str | None = None,
               provider_reference: str | None = None) -> None:
        if self.status is not RefundStatus.PENDING:
            raise InvalidStateTransition(f"refund {self.id} is already {self.status}", current_state=str(self.status))
        self.status = RefundStatus.SUCCESS if succeeded else RefundStatus.FAILED
        self.updated_at = now
        self.next_attempt_at = None
        self.provider_reference = provider_reference or self.provider_reference
        self.failure_code, self.failure_message = code, message
        self._event("refund.succeeded" if succeeded else "refund.failed", now, failure_code=code)

    def lease(self, now: datetime, seconds: float) -> None:
        """Being asked now: the retry job leaves it alone until then (a lost answer ends the lease)."""
        self.next_attempt_at = now + timedelta(seconds=seconds)

    def retry_later(self, now: datetime, code: str | None, message: str | None,
                    delays_s: tuple[float, ...]) -> None:
        """A try failed: ask again after the next delay; once they are used up the
        refund is FAILED and waits for an operator (GET /admin/refunds?status=FAILED)."""
        self.attempts += 1
        self.updated_at = now
        self.last_error = f"{code or 'failed'}: {message}" if message else (code or "failed")
        if self.attempts > len(delays_s):
            self.settle(now, False, code or "processing_error", f"retries exhausted after {self.attempts} tries; "
                        f"last error: {self.last_error}")
            return
        self.next_attempt_at = now + timedelta(seconds=delays_s[self.attempts - 1])

    def reopen(self, now: datetime) -> None:
        """An operator asks for another round of tries of a FAILED refund."""
        if self.status is not RefundStatus.FAILED:
            raise InvalidStateTransition(f"refund {self.id} is {self.status}; only a FAILED one can be retried",
                                         current_state=str(self.status))
        self.status, self.updated_at, self.attempts, self.next_attempt_at = RefundStatus.PENDING, now, 0, now
        self.failure_code = self.failure_message = None
        self._event("refund.requested", now, reopened=True)

"""Payment attempts and refunds (SPEC section 3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.errors import InvalidStateTransition
from app.domain.events import DomainEvent, EventRecorder
from app.domain.model.card import PaymentMethod
from app.domain.model.fraud import FraudAction
from app.domain.model.fraud_evaluation import FraudDecision
from app.domain.model.money import Money
from app.domain.model.order import Order


class AttemptStatus(StrEnum):
    INITIATED = "INITIATED"  # written, not yet sent to the provider
    PENDING = "PENDING"  # sent; waiting for the provider's verdict
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    REQUIRES_REVIEW = "REQUIRES_REVIEW"  # held by a fraud rule until an admin approves or rejects


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


class FailureCode(StrEnum):
    """ActiveMerchant-style normalised failure codes."""

    CARD_DECLINED = "card_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    EXPIRED_CARD = "expired_card"
    INVALID_CVC = "invalid_cvc"
    INCORRECT_NUMBER = "incorrect_number"
    LOST_OR_STOLEN = "lost_or_stolen"
    AUTHENTICATION_REQUIRED = "authentication_required"
    PROCESSING_ERROR = "processing_error"
    GATEWAY_TIMEOUT = "gateway_timeout"
    FRAUD_BLOCKED = "fraud_blocked"
    FRAUD_REJECTED = "fraud_rejected"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    INVALID_REQUEST = "invalid_request"
    PAYER_ACTION_DENIED = "payer_action_denied"


FINAL_ATTEMPT_STATES = frozenset({AttemptStatus.SUCCESS, AttemptStatus.FAILED})


@dataclass(eq=False, slots=True)
class PaymentAttempt(EventRecorder):
    id: uuid.UUID
    order_id: uuid.UUID
    merchant_id: uuid.UUID
    provider: str
    amount: Money
    status: AttemptStatus
    created_at: datetime
    updated_at: datetime
    attempt_number: int = 1
    card_brand: str | None = None
    card_last4: str | None = None
    provider_reference: str | None = None
    redirect_url: str | None = None  # where the shopper must go to act (3-D Secure, PayPal approval)
    return_url: str | None = None  # where the provider sends the shopper back afterwards
    failure_code: str | None = None
    failure_message: str | None = None
    card_fingerprint: str | None = None  # keyed hash of the card: fraud rules count and block by it
    fraud: FraudDecision | None = None  # the fraud rules' verdict, taken before any provider call
    events: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def start(cls, order: Order, provider: str, method: PaymentMethod, now: datetime,
              return_url: str | None = None) -> PaymentAttempt:
        """A new attempt for an order that has just moved to PAYMENT_IN_PROGRESS."""
        brand = (getattr(method, "brand", None) or "card") if method is not None else None
        last4 = getattr(method, "last4", None)
        attempt = cls(uuid.uuid4(), order.id, order.merchant_id, provider, order.amount, AttemptStatus.INITIATED,
                      now, now, order.attempt_count, brand, last4, return_url=return_url)
        attempt._event("payment.requested", now, amount=order.amount.amount_minor, currency=order.amount.currency,
                       attempt_number=attempt.attempt_number)
        return attempt

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_ATTEMPT_STATES

    def _event(self, type_: str, now: datetime, **payload: object) -> None:
        self.record(type_, self.id, self.merchant_id, now, payment_id=str(self.id),
                    order_id=str(self.order_id), provider=self.provider, **payload)

    def mark_pending(self, now: datetime, provider_reference: str | None, redirect_url: str | None = None) -> None:
        if self.status is not AttemptStatus.INITIATED and self.status is not AttemptStatus.PENDING:
            raise InvalidStateTransition(f"attempt {self.id} is already {self.status}", current_state=str(self.status))
        self.status, self.updated_at = AttemptStatus.PENDING, now
        self.provider_reference = provider_reference or self.provider_reference
        if redirect_url and redirect_url != self.redirect_url:  # the shopper must act: tell the merchant where
            self._event("payment.requires_action", now, redirect_url=redirect_url, return_url=self.return_url)
        self.redirect_url = redirect_url or self.redirect_url

    def screen(self, decision: FraudDecision, now: datetime) -> None:
        """Record the fraud verdict of a new attempt: blocked ones fail at once, held ones
        wait for an admin; neither reaches the provider (dispatch sends INITIATED only)."""
        if self.status is not AttemptStatus.INITIATED:
            raise InvalidStateTransition(f"attempt {self.id} is already {self.status}", current_state=str(self.status))
        self.fraud = decision
        if decision.action is not FraudAction.ALLOW:  # nothing to dispatch now
            self.events = [event for event in self.events if event.type != "payment.requested"]
        if decision.action is FraudAction.BLOCK:
            self.fail(now, FailureCode.FRAUD_BLOCKED, "blocked by fraud rule " + str(decision.rule_id))
        elif decision.action is FraudAction.REVIEW:
            self.status, self.updated_at = AttemptStatus.REQUIRES_REVIEW, now
            self._event("payment.review_required", now, rule_id=decision.rule_id, risk_score=decision.score,
                        reasons=list(decision.reasons))

    def approve(self, now: datetime) -> None:
        """An admin lets a held attempt go: it is requested again, and dispatched once."""
        self._require_review()
        self.status, self.updated_at = AttemptStatus.INITIATED, now
        self._event("payment.requested", now, amount=self.amount.amount_minor, currency=self.amount.currency,
                    attempt_number=self.attempt_number, review="approved")

    def reject(self, now: datetime, message: str) -> None:
        self._require_review()
        self.fail(now, FailureCode.FRAUD_REJECTED, message)

    def _require_review(self) -> None:
        if self.status is not AttemptStatus.REQUIRES_REVIEW:
            raise InvalidStateTransition(f"attempt {self.id} is {self.status}, not awaiting review",
                                         current_state=str(self.status))

    def succeed(self, now: datetime, provider_reference: str | None = None) -> None:
        self._finish(AttemptStatus.SUCCESS, now, provider_reference)
        self._event("payment.succeeded", now, amount=self.amount.amount_minor, currency=self.amount.currency)

    def fail(self, now: datetime, code: str, message: str | None = None, provider_reference: str | None = None) -> None:
        self._finish(AttemptStatus.FAILED, now, provider_reference)
        self.failure_code, self.failure_message = code, message
        self._event("payment.failed", now, failure_code=code, failure_message=message)

    def _finish(self, target: AttemptStatus, now: datetime, provider_reference: str | None) -> None:
        if self.is_final:
            raise InvalidStateTransition(f"attempt {self.id} is already {self.status}", current_state=str(self.status))
        self.status, self.updated_at = target, now
        self.provider_reference = provider_reference or self.provider_reference


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
        refund = cls(uuid.uuid4(), attempt.order_id, attempt.id, attempt.merchant_id, provider, amount,
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

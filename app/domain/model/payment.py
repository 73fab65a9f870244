"""Payment attempts (SPEC section 3); refunds are in refund.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.domain.errors import InvalidStateTransition
from app.domain.events import DomainEvent, EventRecorder
from app.domain.ids import new_id
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
        attempt = cls(new_id(), order.id, order.merchant_id, provider, order.amount, AttemptStatus.INITIATED,
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

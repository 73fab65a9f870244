"""Applying a provider's verdict to an attempt and its order, in one transaction —
the one place where order and payment states move together, so they cannot disagree.
Used by dispatch (an answer known at once), callbacks and reconciliation."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from app.domain.model.order import Order, OrderStatus
from app.domain.model.payment import PaymentAttempt
from app.domain.model.provider import Outcome, ProviderResult


class Applied(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"
    ALREADY_FINAL = "already_final"  # a late, duplicate or out-of-order verdict: nothing changes
    MISMATCH = "mismatch"  # the verdict did not match the attempt: recorded, never applied


def apply_result(attempt: PaymentAttempt, order: Order, result: ProviderResult, now: datetime) -> Applied:
    if attempt.is_final:
        return Applied.ALREADY_FINAL
    if result.outcome is Outcome.SUCCEEDED:
        attempt.succeed(now, result.provider_reference)
        if order.status is OrderStatus.PAYMENT_IN_PROGRESS:
            order.mark_paid(now)
        return Applied.SUCCEEDED
    if result.outcome is Outcome.FAILED:
        attempt.fail(now, result.failure_code or "processing_error", result.failure_message,
                     result.provider_reference)
        if order.status is OrderStatus.PAYMENT_IN_PROGRESS:
            order.mark_payment_failed(now, attempt.failure_code)
        return Applied.FAILED
    attempt.mark_pending(now, result.provider_reference, result.redirect_url)  # pending or unknown
    return Applied.PENDING

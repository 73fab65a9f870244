"""The review queue: attempts a fraud rule held (REQUIRES_REVIEW) wait for an admin.
Approve sends the attempt on (it is requested again and dispatched after commit);
reject fails it (`fraud_rejected`) and the order with it. Both take the order's and the
attempt's row locks (order first, as settlement does), so of two approvals, or an
approval racing a rejection, exactly one changes anything: at most one dispatch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from app.domain.model.audit import AuditType
from app.domain.errors import NotFound
from app.domain.model.order import Order
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from app.domain.services.inventory import StockKeeper
from app.domain.services.orders import load_order


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    deadline_s: float = 900.0  # open longer than this: the reconciler rejects it
    batch: int = 100


class ReviewService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, stock: StockKeeper, policy: ReviewPolicy) -> None:
        self._uow, self._clock, self._stock, self._policy = uow, clock, stock, policy

    async def open_reviews(self, limit: int = 100) -> list[PaymentAttempt]:
        """Held attempts, oldest first."""
        async with self._uow() as uow:
            return await uow.payments.awaiting_review(self._clock.now(), limit)

    async def approve(self, payment_id: uuid.UUID) -> PaymentAttempt:
        async with self._uow() as uow:
            audit = uow.audit.record(AuditType.ADMIN_ACTION, action="review_approve", payment=payment_id)
            order, attempt = await self._locked(uow, payment_id)
            audit.add(merchant=order.merchant_id, order=order.id)
            attempt.approve(self._clock.now())
            await uow.payments.save(attempt)
            await uow.commit()
        return attempt

    async def reject(self, payment_id: uuid.UUID, reason: str = "rejected by a reviewer") -> PaymentAttempt:
        async with self._uow() as uow:
            audit = uow.audit.record(AuditType.ADMIN_ACTION, action="review_reject", payment=payment_id)
            order, attempt = await self._locked(uow, payment_id)
            audit.add(merchant=order.merchant_id, order=order.id)
            await self._reject(uow, order, attempt, reason)
            await uow.commit()
        return attempt

    async def reject_overdue(self) -> int:
        """Reject reviews left open past the deadline (run by the reconciler)."""
        held_before = self._clock.now() - timedelta(seconds=self._policy.deadline_s)
        async with self._uow() as uow:
            overdue = await uow.payments.awaiting_review(held_before, self._policy.batch)
        rejected = 0
        for held in overdue:
            async with self._uow() as uow:
                order, attempt = await self._locked(uow, held.id)
                if attempt.status is AttemptStatus.REQUIRES_REVIEW:  # not decided meanwhile
                    await self._reject(uow, order, attempt, "the review deadline passed")
                    await uow.commit()
                    rejected += 1
        return rejected

    async def _reject(self, uow: UnitOfWork, order: Order, attempt: PaymentAttempt, reason: str) -> None:
        now = self._clock.now()
        attempt.reject(now, reason)
        order.mark_payment_failed(now, attempt.failure_code)
        await uow.payments.save(attempt)
        await uow.orders.save(order)
        await self._stock.release_for_payment(uow, order, attempt.id, now)

    async def _locked(self, uow: UnitOfWork, payment_id: uuid.UUID) -> tuple[Order, PaymentAttempt]:
        found = await uow.payments.get(payment_id)
        if found is None:
            raise NotFound(f"payment {payment_id} not found", resource="payment", id=str(payment_id))
        order = await load_order(uow, found.merchant_id, found.order_id, lock=True)
        attempt = await uow.payments.get(payment_id, lock=True)
        if attempt is None:  # attempts are never deleted
            raise NotFound(f"payment {payment_id} not found", resource="payment", id=str(payment_id))
        return order, attempt

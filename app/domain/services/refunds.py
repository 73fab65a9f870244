"""Refund use cases: ask the provider for a requested refund, settle it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from app.domain.errors import NotFound
from app.domain.model.payment import RefundStatus
from app.domain.model.provider import Outcome, ProviderResult, RefundRequest
from app.domain.ports import Clock, ProviderRegistry, UnitOfWork, UnitOfWorkFactory


class RefundService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, providers: ProviderRegistry,
                 retry_after_s: float = 300.0) -> None:
        self._uow, self._clock, self._providers = uow, clock, providers
        self._retry_after_s = retry_after_s

    async def dispatch(self, refund_id: uuid.UUID) -> RefundStatus | None:
        """Request a PENDING refund from the provider. Safe to repeat: the refund id is
        the provider's idempotency key."""
        async with self._uow() as uow:
            refund = await uow.refunds.get(refund_id)
            attempt = await uow.payments.get(refund.payment_id) if refund else None
        if refund is None or attempt is None or refund.status is not RefundStatus.PENDING:
            return None
        result = await self._providers.get(refund.provider).refund(
            RefundRequest(refund.id, attempt.id, attempt.provider_reference, refund.amount))
        return await self.settle(refund_id, result)

    async def settle(self, refund_id: uuid.UUID, result: ProviderResult,
                     uow: UnitOfWork | None = None) -> RefundStatus | None:
        if uow is None:
            async with self._uow() as own:
                status = await self.settle(refund_id, result, own)
                await own.commit()
                return status
        refund = await uow.refunds.get(refund_id, lock=True)
        if refund is None:
            raise NotFound(f"refund {refund_id} not found", resource="refund", id=str(refund_id))
        if refund.status is not RefundStatus.PENDING or result.outcome not in (Outcome.SUCCEEDED, Outcome.FAILED):
            return refund.status
        refund.settle(self._clock.now(), result.outcome is Outcome.SUCCEEDED, result.failure_code,
                      result.failure_message, result.provider_reference)
        await uow.refunds.save(refund)
        return refund.status

    async def redispatch_stale(self, limit: int = 100) -> int:
        """PENDING refunds with no news for a while are requested again (idempotently)."""
        async with self._uow() as uow:
            stale = await uow.refunds.pending(self._clock.now() - timedelta(seconds=self._retry_after_s), limit)
        for refund in stale:
            await self.dispatch(refund.id)
        return len(stale)

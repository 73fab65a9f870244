"""Refund use cases: ask the provider for a requested refund, settle it, and retry the
ones that failed on a schedule kept in PostgreSQL (the refund row's attempts,
next_attempt_at and last_error), until they succeed or are handed to operators."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.domain.errors import NotFound
from app.domain.model.audit import AuditType
from app.domain.model.refund import Refund, RefundStatus
from app.domain.model.provider import Outcome, ProviderResult, RefundRequest
from app.domain.ports import Clock, ProviderRegistry, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class RefundPolicy:
    retry_delays_s: tuple[float, ...] = (10.0, 60.0, 300.0, 1800.0, 7200.0, 21600.0)  # then FAILED
    lease_s: float = 120.0  # a try in flight: no other worker asks again before this
    pending_recheck_s: float = 600.0  # the provider took it: ask again if no callback came by then
    batch: int = 50


class RefundService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, providers: ProviderRegistry,
                 policy: RefundPolicy = RefundPolicy()) -> None:
        self._uow, self._clock, self._providers, self._policy = uow, clock, providers, policy

    async def dispatch(self, refund_id: uuid.UUID) -> RefundStatus | None:
        """Request a PENDING refund from the provider. Safe to repeat: the refund id is
        the provider's idempotency key, and the capture is the one the refund targets."""
        async with self._uow() as uow:
            refund = await uow.refunds.get(refund_id, lock=True)
            if refund is None or refund.status is not RefundStatus.PENDING:
                return None
            refund.lease(self._clock.now(), self._policy.lease_s)
            await uow.refunds.save(refund)
            await uow.commit()
        return await self._ask(refund)

    async def retry_due(self) -> int:
        """One round of the retry job: claim the refunds whose time has come (FOR UPDATE
        SKIP LOCKED, so concurrent workers split them) and ask their providers again."""
        async with self._uow() as uow:
            due = await uow.refunds.claim_due(self._clock.now(), self._policy.lease_s, self._policy.batch)
            await uow.commit()
        for refund in due:
            await self._ask(refund)
        return len(due)

    async def _ask(self, refund: Refund) -> RefundStatus | None:
        request = RefundRequest(refund.id, refund.payment_id, refund.target_reference, refund.amount)
        try:
            result = await self._providers.get(refund.provider).refund(request)
        except Exception as exc:  # noqa: BLE001 - any failure is one failed try; the schedule goes on
            result = ProviderResult(Outcome.UNKNOWN, failure_message=f"{type(exc).__name__}: {exc}")
        return await self.settle(refund.id, result, provider=refund.provider)

    async def settle(self, refund_id: uuid.UUID, result: ProviderResult, uow: UnitOfWork | None = None,
                     provider: str | None = None) -> RefundStatus | None:
        """Apply a provider's answer about a refund; None when it is not about this refund
        (another provider, another refund reference) and so was not applied."""
        if uow is None:
            async with self._uow() as own:
                status = await self.settle(refund_id, result, own, provider)
                await own.commit()
                return status
        audit = uow.audit.record(AuditType.PAYMENT_PROCESSING, action="refund_settle", refund=refund_id)
        refund = await uow.refunds.get(refund_id, lock=True)
        if refund is None:
            raise NotFound(f"refund {refund_id} not found", resource="refund", id=str(refund_id))
        audit.add(merchant=refund.merchant_id, order=refund.order_id, payment=refund.payment_id,
                  provider=refund.provider)
        if provider is not None and (provider != refund.provider or _other_reference(refund, result)):
            audit.fail("verdict_mismatch", "the answer is not about this refund: not applied")
            return None
        if refund.status is not RefundStatus.PENDING:
            return refund.status
        now = self._clock.now()
        if result.outcome is Outcome.SUCCEEDED:
            refund.settle(now, True, provider_reference=result.provider_reference)
        elif result.outcome is Outcome.PENDING:
            refund.provider_reference = refund.provider_reference or result.provider_reference
            refund.lease(now, self._policy.pending_recheck_s)
        else:
            refund.retry_later(now, result.failure_code, result.failure_message, self._policy.retry_delays_s)
            audit.fail(result.failure_code or "refund_failed", result.failure_message)
        await uow.refunds.save(refund)
        return refund.status

    async def by_status(self, status: RefundStatus, limit: int = 100) -> list[Refund]:
        """Operators' view, e.g. the FAILED refunds whose retries ran out."""
        async with self._uow() as uow:
            return await uow.refunds.by_status(status, limit)

    async def reopen(self, refund_id: uuid.UUID) -> Refund:
        """An operator asks for a fresh round of tries of a FAILED refund."""
        async with self._uow() as uow:
            audit = uow.audit.record(AuditType.ADMIN_ACTION, action="refund_reopen", refund=refund_id)
            refund = await uow.refunds.get(refund_id, lock=True)
            if refund is None:
                raise NotFound(f"refund {refund_id} not found", resource="refund", id=str(refund_id))
            audit.add(merchant=refund.merchant_id, order=refund.order_id, payment=refund.payment_id)
            refund.reopen(self._clock.now())
            await uow.refunds.save(refund)
            await uow.commit()
        return refund


def _other_reference(refund: Refund, result: ProviderResult) -> bool:
    return bool(refund.provider_reference and result.provider_reference
                and result.provider_reference != refund.provider_reference)

"""The gate every provider verdict passes before it may touch an attempt.

A verdict that does not match its attempt (app/domain/model/verdict.py) is never applied:
it is recorded (provider_verdict_mismatches), announced to operators (the
`payment.verdict_mismatch` outbox event, a metric and a log line through the alarm), and a
capture it reports is refunded — at the provider that reported it, targeting the reported
capture, once per capture however many duplicates arrive."""

from __future__ import annotations

import uuid

from app.domain.model.mismatch import VerdictMismatch
from app.domain.model.payment import PaymentAttempt
from app.domain.model.refund import Refund
from app.domain.model.provider import ProviderResult
from app.domain.model.verdict import VerdictOrigin, unrequested_capture, verdict_mismatches
from app.domain.ports import Clock, UnitOfWork, UnitOfWorkFactory, VerdictAlarm


class VerdictGate:
    def __init__(self, clock: Clock, alarm: VerdictAlarm) -> None:
        self._clock, self._alarm = clock, alarm

    async def admit(self, uow: UnitOfWork, origin: VerdictOrigin, attempt_id: uuid.UUID,
                    attempt: PaymentAttempt | None, result: ProviderResult) -> bool:
        """True when the verdict may be applied to `attempt` (None: no such attempt of ours).
        Otherwise the mismatch is written in `uow`, which the caller commits."""
        reasons = verdict_mismatches(attempt, origin, result)
        if not reasons:
            return True
        now = self._clock.now()
        mismatch = VerdictMismatch.record_of(origin, attempt_id, attempt, result, reasons, now)
        # An unknown attempt id may be another deployment's on a shared provider account:
        # its money is left to an operator rather than refunded blindly.
        capture = unrequested_capture(attempt, origin, result) if attempt is not None else None
        if capture is not None and attempt is not None:
            refund = Refund.of_unrequested_capture(attempt, origin.provider, *capture, now)
            if await uow.refunds.add_unrequested(refund):
                mismatch.refunded_by(refund.id)
        mismatch.announce()
        await uow.mismatches.add(mismatch)
        self._alarm.mismatch(mismatch)
        return False


class MismatchLog:
    """Operators' view of the refused verdicts (GET /admin/verdict-mismatches)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def recent(self, limit: int = 100) -> list[VerdictMismatch]:
        async with self._uow() as uow:
            return await uow.mismatches.recent(limit)

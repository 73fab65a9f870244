"""Operators hear of a mismatching provider verdict at once: a Prometheus counter to
alert on (`increase(fxp_provider_verdict_mismatches_total[5m]) > 0`) and a warning log
line with everything needed to investigate. The outbox event is written by the use case."""

from __future__ import annotations

import structlog
from prometheus_client import Counter

from app.domain.model.mismatch import VerdictMismatch

VERDICT_MISMATCHES = Counter(
    "fxp_provider_verdict_mismatches_total",
    "Provider verdicts refused because they did not match their attempt, by first reason.",
    ["provider", "source", "reason"],
)

logger = structlog.get_logger("fusionxpay.verdicts")


class LoggingVerdictAlarm:
    """VerdictAlarm: counter + structured log."""

    def mismatch(self, mismatch: VerdictMismatch) -> None:
        VERDICT_MISMATCHES.labels(mismatch.provider, mismatch.source, mismatch.reasons[0]).inc()
        reported = mismatch.reported
        logger.warning("provider_verdict_mismatch", mismatch_id=str(mismatch.id), provider=mismatch.provider,
                       source=mismatch.source, provider_event_id=mismatch.event_id,
                       payment_id=str(mismatch.attempt_id) if mismatch.attempt_id else None,
                       reasons=list(mismatch.reasons), outcome=mismatch.outcome,
                       reported_reference=mismatch.reported_reference, reported_amount=reported.amount_minor,
                       reported_currency=reported.currency,
                       refund_id=str(mismatch.refund_id) if mismatch.refund_id else None)

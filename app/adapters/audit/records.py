"""Audit records written by adapters themselves, in their own transaction: a notification
attempt (merchant webhook, shopper email or SMS) is logged where it is settled."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from app.adapters.audit import context as audit_context
from app.adapters.audit.trail import INSERT_AUDIT, audit_values
from app.domain.model.audit import AuditEntry, AuditType, finish


async def record_notification(connection: Any, channel: str, latency_ms: float, error_code: str | None,
                              error_detail: str | None, **entities: object) -> None:
    """One notification_sent record (action: the channel), failed when `error_code` is
    given, its duration the send's own latency, on `connection` (the caller's transaction)."""
    entry = AuditEntry(AuditType.NOTIFICATION_SENT, {}, action=channel).add(**entities)
    if error_code:
        entry.fail(error_code, error_detail)
    actor, correlation_id = audit_context.current()
    record = dataclasses.replace(finish(entry, datetime.now(UTC), actor, correlation_id),
                                 duration_ms=float(latency_ms))
    await connection.execute(INSERT_AUDIT, *audit_values(record))

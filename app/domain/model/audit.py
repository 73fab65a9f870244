"""The audit trail: one append-only record per operation (seed 003's trace events), with
who did it, on what, how it ended and how long it took.

A use case declares its operation on the unit of work (`uow.audit.record(...)`) when it
starts; how the unit ends decides the outcome: committed -> success, written in the same
transaction as the change; ended by an exception -> failed, with the error, written on
its own (the transaction that failed is rolled back). An operation that ends normally
but failed in business terms (a declined payment) says so with `entry.fail(...)`."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from app.domain.ids import new_id


class AuditType(StrEnum):
    USER_LOGIN = "user_login"
    ORDER_CREATION = "order_creation"
    ORDER_UPDATE = "order_update"  # modify, cancel (not one of seed 003's types: added)
    PAYMENT_PROCESSING = "payment_processing"
    ORDER_FULFILLMENT = "order_fulfillment"
    DATA_LOOKUP = "data_lookup"
    CALLBACK_RECEIVED = "callback_received"
    NOTIFICATION_SENT = "notification_sent"
    ADMIN_ACTION = "admin_action"


class AuditStatus(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"


class ActorKind(StrEnum):
    MERCHANT = "merchant"
    USER = "user"
    ADMIN = "admin"
    PROVIDER = "provider"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    id: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}" if self.id else str(self.kind)


SYSTEM = Actor(ActorKind.SYSTEM)
MAX_DETAIL = 500  # error detail kept per record: enough to read, bounded in size


@dataclass(slots=True)
class AuditEntry:
    """An operation while it runs: entity ids may be added as they become known."""

    type: AuditType
    entities: dict[str, str]
    actor: Actor | None = None  # None: whoever the driver says is acting (request, worker)
    action: str | None = None  # the finer verb, e.g. "login", "refund", "approve_review"
    error_code: str | None = None
    error_detail: str | None = None
    started: float = field(default_factory=time.perf_counter)

    def add(self, **entities: object) -> AuditEntry:
        self.entities.update({kind: str(value) for kind, value in entities.items() if value is not None})
        return self

    def fail(self, code: str, detail: str | None = None) -> None:
        """The operation ended normally but failed (a declined payment, a refused webhook)."""
        self.error_code, self.error_detail = code, (detail or "")[:MAX_DETAIL] or None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A finished operation, as stored (append-only)."""

    id: uuid.UUID
    type: AuditType
    status: AuditStatus
    occurred_at: datetime
    actor: Actor
    entities: dict[str, str]
    duration_ms: float
    correlation_id: str | None = None
    action: str | None = None
    error_code: str | None = None
    error_detail: str | None = None


def finish(entry: AuditEntry, now: datetime, actor: Actor, correlation_id: str | None,
           error: BaseException | None = None) -> AuditRecord:
    """The record of `entry`, ended now: failed if it said so or `error` ended it."""
    code, detail = entry.error_code, entry.error_detail
    if error is not None and code is None:
        code = str(getattr(error, "code", None) or type(error).__name__)
        detail = (str(getattr(error, "message", None) or error) or type(error).__name__)[:MAX_DETAIL]
    return AuditRecord(
        id=new_id(), type=entry.type, status=AuditStatus.FAILED if code else AuditStatus.SUCCESS,
        occurred_at=now, actor=entry.actor or actor, entities=dict(entry.entities),
        duration_ms=round((time.perf_counter() - entry.started) * 1000, 3), correlation_id=correlation_id,
        action=entry.action, error_code=code, error_detail=detail)


class AuditLog:
    """The operations a unit of work records (plain data: both unit-of-work adapters and
    the fakes hold one). Disabled, it records nothing (benchmarks measure its cost)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.entries: list[AuditEntry] = []

    def record(self, type: AuditType, *, actor: Actor | None = None, action: str | None = None,
               **entities: object) -> AuditEntry:
        entry = AuditEntry(type, {}, actor, action).add(**entities)
        if self.enabled:
            self.entries.append(entry)
        return entry

    def take(self) -> list[AuditEntry]:
        entries, self.entries = self.entries, []
        return entries

    def adopt(self, entries: list[AuditEntry]) -> None:
        """A nested unit's committed operations: they stand or fall with this unit."""
        self.entries.extend(entries)

"""Port of the audit trail: where finished operations are appended and searched."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.model.audit import ActorKind, AuditRecord, AuditStatus, AuditType


@dataclass(frozen=True, slots=True)
class AuditQuery:
    type: AuditType | None = None
    status: AuditStatus | None = None
    actor_kind: ActorKind | None = None
    actor_id: str | None = None
    entity: tuple[str, str] | None = None  # (kind, id), e.g. ("order", "<uuid>")
    since: datetime | None = None  # occurred_at >= since
    until: datetime | None = None  # occurred_at < until
    cursor: tuple[datetime, uuid.UUID] | None = None  # keyset: strictly older than this
    limit: int = 50


class AuditTrail(Protocol):
    """The append-only store. Records of committed changes are written by the unit of work
    in their transaction; this appends the others (reads, failures) on its own."""

    def append(self, records: list[AuditRecord]) -> None:
        """Queue records to be written soon, off the caller's path (batched)."""

    async def flush(self) -> None:
        """Write what is queued now (shutdown, tests)."""

    async def search(self, query: AuditQuery) -> list[AuditRecord]:
        """Newest first, at most query.limit + 1 records (the extra one: another page)."""

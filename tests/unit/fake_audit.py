"""In-memory audit trail: the records a fake unit of work finished, searchable as the
PostgreSQL one is (newest first, keyset cursor, limit + 1)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.model.audit import SYSTEM, Actor, AuditEntry, AuditRecord, finish
from app.domain.ports_audit import AuditQuery


def finished(entries: list[AuditEntry], actor: Actor = SYSTEM, correlation_id: str | None = None,
             error: BaseException | None = None) -> list[AuditRecord]:
    now = datetime.now(UTC)
    return [finish(entry, now, actor, correlation_id, error) for entry in entries]


class InMemoryAuditTrail:
    def __init__(self, records: list[AuditRecord] | None = None) -> None:
        self.records = records if records is not None else []
        self.flushes = 0

    def append(self, records: list[AuditRecord]) -> None:
        self.records.extend(records)

    async def flush(self) -> None:
        self.flushes += 1

    async def search(self, query: AuditQuery) -> list[AuditRecord]:
        def matches(r: AuditRecord) -> bool:
            return ((query.type is None or r.type is query.type)
                    and (query.status is None or r.status is query.status)
                    and (query.actor_kind is None or r.actor.kind is query.actor_kind)
                    and (query.actor_id is None or r.actor.id == query.actor_id)
                    and (query.entity is None or r.entities.get(query.entity[0]) == query.entity[1])
                    and (query.since is None or r.occurred_at >= query.since)
                    and (query.until is None or r.occurred_at < query.until)
                    and (query.cursor is None or (r.occurred_at, r.id) < query.cursor))
        found = sorted(filter(matches, self.records), key=lambda r: (r.occurred_at, r.id), reverse=True)
        return found[: query.limit + 1]

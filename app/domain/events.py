"""Domain events: recorded on aggregates, written to the outbox in the same
transaction as the state change that caused them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.domain.ids import new_id


@dataclass(frozen=True, slots=True)
class DomainEvent:
    type: str  # e.g. "order.created", "order.status_changed", "payment.succeeded"
    aggregate_id: uuid.UUID
    merchant_id: uuid.UUID
    occurred_at: datetime
    payload: dict[str, Any]
    id: uuid.UUID = field(default_factory=new_id)  # time-ordered: see app/domain/ids.py


class EventRecorder:
    """Mixin for aggregates: collects events until the unit of work takes them."""

    __slots__ = ()
    events: list[DomainEvent]

    def record(self, type_: str, aggregate_id: uuid.UUID, merchant_id: uuid.UUID, at: datetime, **payload: Any) -> None:
        self.events.append(DomainEvent(type_, aggregate_id, merchant_id, at, payload))

    def pull_events(self) -> list[DomainEvent]:
        pulled = list(self.events)
        self.events.clear()  # in place: the mixin has no slot of its own to assign
        return pulled

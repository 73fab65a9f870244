"""The Piccolo unit of work: one transaction, rolled back unless committed. On commit
it writes every event the touched aggregates recorded to the outbox, in the same
transaction; once the outermost transaction has committed it hands them to the bus."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import structlog
from piccolo.engine.postgres import PostgresEngine

from app.adapters.db.repositories import (
    PiccoloCallbackInbox, PiccoloMerchantRepository, PiccoloOrderRepository,
    PiccoloPaymentRepository, PiccoloRefundRepository,
)
from app.adapters.db.tables import OutboxTable
from app.domain.events import DomainEvent, EventRecorder
from app.domain.ports import EventBus

# The outermost unit of work of the current task: nested ones hand it their events.
_root: ContextVar[PiccoloUnitOfWork | None] = ContextVar("fxp_root_uow", default=None)


def outbox_row(event: DomainEvent, correlation_id: str | None) -> OutboxTable:
    return OutboxTable(
        id=event.id, event_type=event.type, aggregate_id=event.aggregate_id, merchant_id=event.merchant_id,
        payload=event.payload, correlation_id=correlation_id, occurred_at=event.occurred_at,
    )


class PiccoloUnitOfWork:
    def __init__(self, engine: PostgresEngine, bus: EventBus | None = None) -> None:
        self._engine = engine
        self._bus = bus
        self._seen: list[EventRecorder] = []
        self.orders = PiccoloOrderRepository(self._seen)
        self.payments = PiccoloPaymentRepository(self._seen)
        self.refunds = PiccoloRefundRepository(self._seen)
        self.merchants = PiccoloMerchantRepository()
        self.callbacks = PiccoloCallbackInbox()
        self.committed_events: list[DomainEvent] = []

    async def __aenter__(self) -> PiccoloUnitOfWork:
        self._committed = False
        self._parent = _root.get()
        self._tx = self._engine.transaction()
        transaction = await self._tx.__aenter__()
        if self._parent is not None:
            self._savepoint = await transaction.savepoint()
        else:
            self._token = _root.set(self)
        self._transaction = transaction
        return self

    async def commit(self) -> None:
        events = [event for aggregate in self._seen for event in aggregate.pull_events()]
        if events:
            correlation_id = structlog.contextvars.get_contextvars().get("correlation_id")
            await OutboxTable.insert(*(outbox_row(event, correlation_id) for event in events)).run()
        if self._parent is not None:
            await self._savepoint.release()
            self._parent.committed_events.extend(events)
        else:
            await self._transaction.commit()
            self.committed_events.extend(events)
        self._committed = True

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            if not self._committed:
                if self._parent is not None:
                    await self._savepoint.rollback_to()
                else:
                    await self._transaction.rollback()
        finally:
            await self._tx.__aexit__(*exc_info)
            if self._parent is None:
                _root.reset(self._token)
        if self._parent is None and self._committed and self._bus and self.committed_events:
            await self._bus.publish(self.committed_events)


class PiccoloUnitOfWorkFactory:
    def __init__(self, engine: PostgresEngine, bus: EventBus | None = None) -> None:
        self.engine = engine
        self.bus = bus

    def __call__(self) -> PiccoloUnitOfWork:
        return PiccoloUnitOfWork(self.engine, self.bus)

"""The Piccolo unit of work: one transaction, rolled back unless committed. On commit
it writes every event the touched aggregates recorded to the outbox, in the same
transaction; once the outermost transaction has committed it hands them to the bus.

A unit of work opened inside another (a use case under the idempotency middleware) joins
the outer transaction: if it ends without committing, the outer one is marked
rollback-only and cannot commit either. (Savepoints would allow partial rollback, which
no caller needs, at two extra round trips per request.)

A single-statement unit (`single_statement()`, for use cases whose only effects are
inserts the repositories can defer: creating an order) opens no transaction: its reads
run on their own, its inserts wait in `writes`, and its commit sends them with the outbox
rows, the audit records and, under the idempotency middleware, the key's claim as one
statement, atomic by itself: one round trip instead of BEGIN, the statements, COMMIT.
It takes its pooled connection only when a statement first needs one: under group commit
(group_commit.py) most such units never send a statement of their own.
Nested in a transactional unit it joins that one and writes at once, as any unit does."""

from __future__ import annotations

from contextvars import ContextVar
from functools import cached_property
from datetime import UTC, datetime
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction

from app.adapters.db.merchant_secrets import WebhookSecretBox
from app.adapters.db.repositories import (
    PiccoloCallbackInbox, PiccoloMerchantRepository, PiccoloMismatchRepository, PiccoloOrderRepository,
    PiccoloPaymentRepository, PiccoloRefundRepository, Touched,
)
from app.adapters.audit import context as audit_context
from app.adapters.audit.trail import audit_values
from app.adapters.db import log_rides
from app.adapters.db.commit_writes import CommitWrites, KeyNotClaimed, WriteRefused
from app.adapters.db.group_commit import GroupCommit
from app.adapters.observability.business_metrics import count_committed
from app.adapters.observability.trace_context import current_traceparent
from app.adapters.db.catalog_repositories import PiccoloProductRepository, PiccoloReservationRepository
from app.adapters.queue.processed_events import PiccoloProcessedEvents
from app.adapters.db.accounts import PiccoloRefreshTokenRepository, PiccoloUserRepository
from app.adapters.db.saved_cards import PiccoloSavedCardRepository
from app.domain.events import DomainEvent
from app.domain.model.order import with_order_snapshots
from app.domain.model.audit import AuditEntry, AuditLog, AuditRecord, finish
from app.domain.ports import EventBus, RollbackOnly, WriteSkipped
from app.domain.ports_audit import AuditTrail
from config.log_context import context_value

# The outermost unit of work of the current task: nested ones hand it their events.
_root: ContextVar[PiccoloUnitOfWork | None] = ContextVar("fxp_root_uow", default=None)


def current_root() -> PiccoloUnitOfWork | None:
    """The outermost unit of work this task is in, if any."""
    return _root.get()


def detach_from_transaction(engine: PostgresEngine) -> None:
    """In a task started from inside a unit of work (it copied the context): forget that
    unit and its transaction, so the task's own units open their own."""
    _root.set(None)
    engine.current_transaction.set(None)


def outbox_values(event: DomainEvent, correlation_id: str | None, traceparent: str | None = None) -> tuple:
    return (event.id, event.type, event.aggregate_id, event.merchant_id,
            msgspec.json.encode(event.payload).decode(), correlation_id, event.occurred_at, traceparent)


class PiccoloUnitOfWork:
    def __init__(self, engine: PostgresEngine, bus: EventBus | None = None, trail: AuditTrail | None = None,
                 audit: bool = True, secrets: WebhookSecretBox | None = None, read_only: bool = False,
                 single_statement: bool = False, group: GroupCommit | None = None) -> None:
        self._engine = engine
        self._group = group  # a single-statement root's commit shares statements with others
        self._read_only = read_only  # reading(): no transaction of its own, may not commit
        self._single_statement = single_statement  # single_statement(): no transaction, writes at commit
        self._defers = False  # this unit's inserts wait for the commit (its root writes in one statement)
        self._bus = bus
        self._trail = trail
        self.audit = AuditLog(enabled=audit and trail is not None)
        self._touched = Touched()
        self._secrets = secrets
        self.committed_events: list[DomainEvent] = []
        self.writes = CommitWrites()  # written at the root's commit, in one statement

    # The repositories, made when first used: a request uses two or three of the twelve.
    @cached_property
    def orders(self) -> PiccoloOrderRepository:
        return PiccoloOrderRepository(self._touched, self.writes.orders if self._defers else None, self.writes)

    @cached_property
    def payments(self) -> PiccoloPaymentRepository:
        return PiccoloPaymentRepository(self._touched, self.writes)

    @cached_property
    def refunds(self) -> PiccoloRefundRepository:
        return PiccoloRefundRepository(self._touched)

    @cached_property
    def merchants(self) -> PiccoloMerchantRepository:
        return PiccoloMerchantRepository(self._secrets)

    @cached_property
    def callbacks(self) -> PiccoloCallbackInbox:
        return PiccoloCallbackInbox()

    @cached_property
    def products(self) -> PiccoloProductRepository:
        return PiccoloProductRepository(self._touched)

    @cached_property
    def reservations(self) -> PiccoloReservationRepository:
        return PiccoloReservationRepository(self._touched)

    @cached_property
    def processed(self) -> PiccoloProcessedEvents:
        return PiccoloProcessedEvents(self.writes if self._defers else None)

    @cached_property
    def mismatches(self) -> PiccoloMismatchRepository:
        return PiccoloMismatchRepository(self._touched)

    @cached_property
    def users(self) -> PiccoloUserRepository:
        return PiccoloUserRepository()

    @cached_property
    def refresh_tokens(self) -> PiccoloRefreshTokenRepository:
        return PiccoloRefreshTokenRepository()

    @cached_property
    def cards(self) -> PiccoloSavedCardRepository:
        return PiccoloSavedCardRepository()

    async def __aenter__(self) -> PiccoloUnitOfWork:
        self._committed = False
        self._rollback_only = False
        self._parent = _root.get()
        if self._parent is None:
            self._defers = self._single_statement
        elif self._parent._defers and not (self._single_statement or self._read_only):
            # Its writes would run one by one, each committing on its own: not atomic.
            raise RuntimeError("a transactional unit of work cannot join a single-statement one")
        else:
            self._defers = self._parent._defers
        self._touched.deferring = self._defers
        self._tx = (_NoTransaction(self._engine, connect_on_use=self._single_statement)
                    if (self._read_only or self._single_statement) and self._parent is None
                    else self._engine.transaction())
        self._transaction = await self._tx.__aenter__()
        if self._parent is None:
            self._token = _root.set(self)
        return self

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a reading unit of work cannot commit (it has no transaction)")
        if self._rollback_only:
            raise RollbackOnly("a nested unit of work did not commit")
        events = [event for aggregate in self._touched.aggregates for event in aggregate.pull_events()]
        events = await with_order_snapshots(events, list(self._touched.aggregates), self.orders.get)
        if events:
            correlation_id = context_value("correlation_id")
            trace = current_traceparent()  # the workers' spans join this trace
            self.writes.outbox.extend(outbox_values(event, correlation_id, trace) for event in events)
        if self._parent is not None:
            # The outer unit writes them with its own, in its transaction: a nested unit's
            # outcome is the outer one's.
            self._parent.writes.adopt(self.writes)
            self._parent.audit.adopt(self.audit.take())
            self._parent.committed_events.extend(events)
        else:
            # The operations recorded, with the change (taken once committed: if the commit
            # fails, __aexit__ records them as failed); the outbox rows; the idempotent
            # response: one statement, then COMMIT (none for a single-statement unit).
            if self.audit.entries:
                self.writes.audit = [audit_values(record) for record in _finished(self.audit.entries)]
            rides = log_rides.take()  # provider call rows and consumer marks of this task: with the rest
            self.writes.calls = [ride.values for ride in rides if not ride.mark]
            self.writes.marks = [ride.values for ride in rides if ride.mark]
            try:
                if self._group is not None and self._single_statement:
                    await self._group.commit(self.writes, self._transaction.connection)
                else:
                    await self.writes.run(self._transaction.connection)
                await self._transaction.commit()
            except (KeyNotClaimed, WriteSkipped):
                # Another request's key, or a guarded write whose row moved on: this one
                # did nothing (what it read or meant to write is not an operation of its
                # own to record).
                log_rides.release(rides)
                self.audit.take()
                raise
            except WriteRefused:
                log_rides.release(rides)
                raise await self.orders.refused(self.writes.orders) from None
            except BaseException:
                log_rides.release(rides)
                raise
            log_rides.done(rides)
            self.audit.take()
            self.committed_events.extend(events)
            count_committed(events)  # payments, refunds: counted once they are true
        self._committed = True

    def store_response_at_commit(self, merchant_id: Any, key: str, status_code: int, body: bytes) -> None:
        """The idempotency key's response, written with the rest at the root's commit."""
        root = self if self._parent is None else self._parent
        root.writes.response = (merchant_id, key, status_code, body)

    def claim_at_commit(self, merchant_id: Any, key: str, fingerprint: str, ttl_s: float, status_code: int,
                        body: bytes) -> None:
        """Claim the idempotency key with its response in the root's commit statement: the
        commit writes everything or, when the key is another request's, nothing
        (KeyNotClaimed)."""
        root = self if self._parent is None else self._parent
        root.writes.claim = (merchant_id, key, fingerprint, ttl_s, status_code, body)

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            if not self._committed:
                if self._parent is not None:  # a read-only one leaves the outer transaction alone
                    self._parent._rollback_only |= self._touched.wrote or exc_info[0] is not None
                else:
                    await self._transaction.rollback()
        finally:
            # Committed, an exception no longer means rollback: Piccolo would try one on the
            # finished transaction, fail, and never hand the connection back to the pool.
            await self._tx.__aexit__(*((None, None, None) if self._committed else exc_info))
            if self._parent is None:
                _root.reset(self._token)
            if self.audit.entries and self._trail is not None:
                # Reads, and operations that failed (their transaction rolled back): on their own.
                self._trail.append(_finished(self.audit.take(), exc_info[1]))
        if self._parent is None and self._committed and self._bus and self.committed_events:
            await self._bus.publish(self.committed_events)


def _finished(entries: list[AuditEntry], error: BaseException | None = None) -> list[AuditRecord]:
    actor, correlation_id = audit_context.current()
    now = datetime.now(UTC)
    return [finish(entry, now, actor, correlation_id, error) for entry in entries]


class PiccoloUnitOfWorkFactory:
    def __init__(self, engine: PostgresEngine, bus: EventBus | None = None, trail: AuditTrail | None = None,
                 audit: bool = True, secrets: WebhookSecretBox | None = None, group_commit: bool = True) -> None:
        self.engine = engine
        # Single-statement units committing at the same time share a statement (group_commit.py).
        self.group = GroupCommit() if group_commit else None
        self.bus = bus
        self.trail = trail
        self.audit = audit  # False: operations are not recorded (benchmarks measure the cost)
        self.secrets = secrets  # how merchants' webhook secrets are sealed at rest

    def __call__(self) -> PiccoloUnitOfWork:
        return PiccoloUnitOfWork(self.engine, self.bus, self.trail, self.audit, self.secrets)

    def reading(self) -> PiccoloUnitOfWork:
        return PiccoloUnitOfWork(self.engine, self.bus, self.trail, self.audit, self.secrets, read_only=True)

    def single_statement(self) -> PiccoloUnitOfWork:
        return PiccoloUnitOfWork(self.engine, self.bus, self.trail, self.audit, self.secrets, single_statement=True,
                                 group=self.group)


class _NoTransaction(PostgresTransaction):
    """A reading or single-statement unit's connection: from the pool, with no BEGIN and
    nothing to end (a single statement reads one snapshot, or writes atomically, on its
    own), so a one-statement request is one round trip instead of three. Statements run
    through it as through a transaction (engine.current_transaction), each committing on
    its own: readers, and the single-statement unit's commit."""

    def __init__(self, engine: PostgresEngine, connect_on_use: bool = False) -> None:
        super().__init__(engine)
        self._connect_on_use = connect_on_use

    async def __aenter__(self) -> PostgresTransaction:
        if not self._connect_on_use or self._parent is not None or not self.engine.pool:
            return await super().__aenter__()
        # A single-statement unit's connection is taken from the pool when a statement
        # first needs it: under group commit most such units never send one (another
        # unit's batch writes theirs), and the pool's acquire and release were about 8%
        # of a POST /orders' CPU.
        self.connection = _OnFirstUse(self)
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if isinstance(self.connection, _OnFirstUse) and self._parent is None:
            self.engine.current_transaction.reset(self.context)  # nothing was taken: nothing to give back
            return exception is None
        return await super().__aexit__(exception_type, exception, traceback)

    async def begin(self) -> None:
        pass

    async def commit(self) -> None:
        self._committed = True  # the statement committed itself

    async def rollback(self) -> None:
        self._rolled_back = True  # nothing began: nothing to roll back


class _OnFirstUse:
    """Stands for a single-statement unit's connection until a statement needs it: its
    first query takes a connection from the pool, which then replaces this object as the
    unit's connection (and is given back when the unit ends)."""

    __slots__ = ("_transaction",)

    def __init__(self, transaction: _NoTransaction) -> None:
        self._transaction = transaction

    async def _connection(self) -> Any:
        # Taken already (the unit's later statements may still hold this object): that one.
        # A unit's statements run one after another, so two never take one each.
        if (taken := self._transaction.connection) is not self:
            return taken
        connection = await self._transaction.get_connection()
        self._transaction.connection = connection
        return connection

    async def fetch(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._connection()).fetch(*args, **kwargs)

    async def fetchrow(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._connection()).fetchrow(*args, **kwargs)

    async def fetchval(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._connection()).fetchval(*args, **kwargs)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._connection()).execute(*args, **kwargs)

    async def executemany(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._connection()).executemany(*args, **kwargs)

    def remove_query_logger(self, callback: Any) -> None:
        pass  # none was added: no connection was taken

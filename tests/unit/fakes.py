"""In-memory fakes of the domain's ports, for unit tests. Like the Piccolo adapters they
implement the Protocols without inheriting from them, and they behave like the database
where a use case could tell the difference: a unit of work rolls back unless committed;
rows are stored and handed out as copies, so an uncommitted change cannot leak; the
schema's unique keys and indexes hold; `lock=True` takes a row lock kept until the
transaction ends; a unit of work opened inside another joins it, as the Piccolo one does:
no savepoint, so one that wrote and ended without committing makes the outer one
rollback-only (tests/unit_of_work_contract.py holds both to the same cases)."""

from __future__ import annotations

import asyncio
import copy
import builtins
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.domain.errors import Conflict
from app.domain.events import DomainEvent, EventRecorder
from app.domain.model.audit import SYSTEM, Actor, AuditLog, AuditRecord
from app.domain.model.merchant import Merchant
from app.domain.model.order import Order, duplicate_order, with_order_snapshots
from app.domain.model.catalog import Product
from app.domain.model.mismatch import VerdictMismatch
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.domain.model.refund import Refund, RefundPurpose, RefundStatus
from app.domain.model.saved_card import SavedCard
from app.domain.model.session import RefreshToken
from app.domain.model.user import User
from app.domain.ports import EventBus, OrderQuery, RollbackOnly, WriteSkipped
from tests.unit.fake_audit import finished
from tests.unit.fake_accounts import (
    InMemoryRefreshTokenRepository, InMemorySavedCardRepository, InMemoryUserRepository,
)
from tests.unit.fake_catalog import (
    CATALOG_UNIQUE_KEYS, InMemoryProcessedEvents, InMemoryProductRepository, InMemoryReservationRepository,
)

IN_FLIGHT = (AttemptStatus.INITIATED, AttemptStatus.PENDING, AttemptStatus.REQUIRES_REVIEW)
UNSETTLED = (AttemptStatus.INITIATED, AttemptStatus.PENDING)
FRAUD_REFUSALS = ("fraud_blocked", "fraud_rejected")
LOCK_TIMEOUT_S = 2.0  # the database's lock_timeout: a deadlocked test fails instead of hanging


class UniqueViolation(Exception):
    """What the database raises when a write breaks a primary key or a unique index."""

    def __init__(self, constraint: str) -> None:
        super().__init__(f"duplicate key value violates unique constraint {constraint!r}")
        self.constraint = constraint


class LockTimeout(Exception):
    """What the database raises when a row lock is not granted within lock_timeout."""


# The unique constraints and indexes of each table besides its primary key, named as in
# schema_0001.sql: each row maps to (constraint, value) pairs that no two rows may share.
UNIQUE_KEYS: dict[str, Callable[[Any], list[tuple[Any, ...]]]] = {
    "orders": lambda o: [] if o.merchant_reference is None
    else [("orders_merchant_reference_key", o.merchant_id, o.merchant_reference)],
    "payments": lambda a: [("payment_attempts_order_id_attempt_number_key", a.order_id, a.attempt_number)]
    + ([("payment_attempts_one_in_flight", a.order_id)] if a.status in IN_FLIGHT else [])
    + ([("payment_attempts_one_success", a.order_id)] if a.status is AttemptStatus.SUCCESS else []),
    "refunds": lambda r: ([] if r.purpose is RefundPurpose.UNREQUESTED_CAPTURE
                          else [("refunds_one_per_attempt", r.payment_id)])
    + ([("refunds_one_per_capture", r.provider, r.target_reference)] if r.target_reference else []),
    "merchants": lambda m: [("merchants_api_key_hash_key", m.api_key_hash)],
    "callbacks": lambda key: [],
    **CATALOG_UNIQUE_KEYS,
    "mismatches": lambda m: [],
    "users": lambda u: [("users_email_key", u.merchant_id, u.email)],
    "refresh_tokens": lambda t: [("refresh_tokens_token_hash_key", t.token_hash)]
    + ([("refresh_tokens_one_live_per_family", t.family_id)] if t.rotated_at is None and t.revoked_at is None
       else []),
    "cards": lambda c: [],
}


def _stored(row: Any) -> Any:
    """The copy a table keeps: recorded events belong to the caller's object, not the row."""
    kept = copy.deepcopy(row)
    if isinstance(kept, EventRecorder):
        kept.events.clear()  # the deep copy's own list
    return kept


@dataclass
class InMemoryDatabase:
    """The committed state: rows by primary key per table, the outbox, row locks."""

    orders: dict[uuid.UUID, Order] = field(default_factory=dict)
    payments: dict[uuid.UUID, PaymentAttempt] = field(default_factory=dict)
    refunds: dict[uuid.UUID, Refund] = field(default_factory=dict)
    merchants: dict[uuid.UUID, Merchant] = field(default_factory=dict)
    callbacks: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    products: dict[uuid.UUID, Product] = field(default_factory=dict)
    adjustments: dict[uuid.UUID, Any] = field(default_factory=dict)
    reservations: dict[uuid.UUID, Any] = field(default_factory=dict)
    processed: dict[Hashable, Any] = field(default_factory=dict)
    mismatches: dict[uuid.UUID, VerdictMismatch] = field(default_factory=dict)
    users: dict[uuid.UUID, User] = field(default_factory=dict)
    refresh_tokens: dict[uuid.UUID, RefreshToken] = field(default_factory=dict)
    cards: dict[str, SavedCard] = field(default_factory=dict)
    outbox: list[DomainEvent] = field(default_factory=list)
    audit: list[AuditRecord] = field(default_factory=list)  # append-only, as audit_log
    commits: int = 0
    locks: dict[Hashable, asyncio.Lock] = field(default_factory=dict)


class _Table:
    """One table as one transaction sees it: the committed rows overlaid with the
    transaction's own uncommitted writes (those of units nested in it included)."""

    def __init__(self, name: str, beneath: dict[Hashable, Any], lock: Callable[[Hashable], Awaitable[None]]) -> None:
        self.name, self._beneath, self._lock = name, beneath, lock
        self._unique = UNIQUE_KEYS[name]
        self.written: dict[Hashable, Any] = {}
        self.writes = 0  # statements that changed a row: a nested unit's tell-tale

    def rows(self) -> dict[Hashable, Any]:
        return {**self._beneath, **self.written}

    def read(self, key: Hashable) -> Any:
        return copy.deepcopy(self.rows().get(key))

    def select(self, where: Callable[[Any], bool]) -> list[Any]:
        return [copy.deepcopy(row) for row in self.rows().values() if where(row)]

    async def lock(self, key: Hashable) -> None:
        await self._lock((self.name, key))

    async def insert(self, key: Hashable, row: Any, *, on_conflict_do_nothing: bool = False) -> bool:
        await self._lock_keys(key, row)
        rows = self.rows()
        clash = f"{self.name}_pkey" if key in rows else self._clash(rows, key, row)
        if clash and on_conflict_do_nothing:
            return False
        if clash:
            raise UniqueViolation(clash)
        self.written[key] = _stored(row)
        self.writes += 1
        return True

    async def update(self, key: Hashable, row: Any) -> None:
        await self._lock_keys(key, row)
        rows = self.rows()
        if key not in rows:
            return  # an UPDATE that matches no row changes nothing
        if clash := self._clash(rows, key, row):
            raise UniqueViolation(clash)
        self.written[key] = _stored(row)
        self.writes += 1

    def publish(self) -> None:
        """Commit: the transaction's writes become the committed rows."""
        self._beneath.update(self.written)
        self.written = {}

    async def _lock_keys(self, key: Hashable, row: Any) -> None:
        # Like Postgres, a write waits for a concurrent transaction holding the same row or
        # unique-index entry (its old version included), then sees that one's outcome.
        await self.lock(key)
        old = self.rows().get(key)
        for unique_key in self._unique(row) + (self._unique(old) if old is not None else []):
            await self.lock(unique_key)

    def _clash(self, rows: dict[Hashable, Any], key: Hashable, row: Any) -> str | None:
        """The constraint `row` would break if written under `key`, if any."""
        mine = set(self._unique(row))
        for other_key, other in rows.items():
            if other_key != key and (shared := mine & set(self._unique(other))):
                return min(constraint for constraint, *_ in shared)
        return None


def _track(seen: list[EventRecorder], aggregate: Any) -> Any:
    # As in the Piccolo repositories: what get/add/save hand out or take in is tracked for
    # its events; get_by_reference and for_order results are read-only views.
    if aggregate is not None and not any(aggregate is known for known in seen):
        seen.append(aggregate)
    return aggregate


class InMemoryOrderRepository:
    def __init__(self, table: _Table, seen: list[EventRecorder], payments: InMemoryPaymentRepository | None = None,
                 refunds: InMemoryRefundRepository | None = None, deferred: list[Order] | None = None) -> None:
        self._table, self._seen = table, seen
        self._payments, self._refunds = payments, refunds  # view() reads them with the order
        self._deferred = deferred  # a single-statement unit's inserts, made at its commit

    async def add(self, order: Order) -> bool:
        if self._deferred is not None:
            self._deferred.append(order)
            _track(self._seen, order)
            return True
        inserted = await self._table.insert(order.id, order, on_conflict_do_nothing=True)
        if inserted:
            _track(self._seen, order)
        return inserted

    async def get(self, merchant_id: uuid.UUID, order_id: uuid.UUID, *, lock: bool = False) -> Order | None:
        if lock:
            await self._table.lock(order_id)
        order = self._table.read(order_id)
        return _track(self._seen, order) if order is not None and order.merchant_id == merchant_id else None

    async def locked_with_attempt(self, attempt_id: uuid.UUID) -> tuple[Order, PaymentAttempt] | None:
        if self._payments is None:
            return None
        unlocked = await self._payments.get(attempt_id)
        if unlocked is None:
            return None
        order = await self.get(unlocked.merchant_id, unlocked.order_id, lock=True)  # the order's lock first
        attempt = await self._payments.get(attempt_id, lock=True)
        return (order, attempt) if order is not None and attempt is not None else None

    async def get_by_reference(self, merchant_id: uuid.UUID, reference: str) -> Order | None:
        found = self._table.select(lambda o: o.merchant_id == merchant_id and o.merchant_reference == reference)
        return found[0] if found else None

    async def view(self, merchant_id: uuid.UUID,
                   order_id: uuid.UUID) -> tuple[Order, builtins.list[PaymentAttempt], builtins.list[Refund]] | None:
        order = await self.get(merchant_id, order_id)
        if order is None or self._payments is None or self._refunds is None:
            return None if order is None else (order, [], [])
        return order, await self._payments.for_order(order_id), await self._refunds.for_order(order_id)

    async def save(self, order: Order, *, at_commit: bool = False) -> None:
        await self._table.update(order.id, order)  # (at commit or now: the same to the transaction's end)
        _track(self._seen, order)

    async def list(self, query: OrderQuery) -> list[Order]:
        def matches(o: Order) -> bool:
            return (o.merchant_id == query.merchant_id
                    and (query.user_id is None or o.user_id == query.user_id)
                    and (query.status is None or o.status is query.status)
                    and (query.created_after is None or o.created_at >= query.created_after)
                    and (query.created_before is None or o.created_at < query.created_before)
                    and (query.cursor is None or (o.created_at, o.id) < query.cursor))

        newest_first = sorted(self._table.select(matches), key=lambda o: (o.created_at, o.id), reverse=True)
        return newest_first[: query.limit + 1]


class InMemoryPaymentRepository:
    def __init__(self, table: _Table, seen: list[EventRecorder],
                 guards: list[Callable[[], Awaitable[None]]] | None = None) -> None:
        self._table, self._seen = table, seen
        self._guards = guards  # a single-statement unit's conditional write, made at its commit

    async def add(self, attempt: PaymentAttempt) -> None:
        try:
            await self._table.insert(attempt.id, attempt)
        except UniqueViolation as exc:  # as PiccoloPaymentRepository translates it
            raise Conflict("this order already has a payment in flight or a successful payment",
                           code="payment_in_progress", constraint=exc.constraint) from None
        _track(self._seen, attempt)

    async def get(self, attempt_id: uuid.UUID, *, merchant_id: uuid.UUID | None = None,
                  lock: bool = False) -> PaymentAttempt | None:
        if lock:
            await self._table.lock(attempt_id)
        attempt = self._table.read(attempt_id)
        if attempt is None or (merchant_id is not None and attempt.merchant_id != merchant_id):
            return None
        return _track(self._seen, attempt)

    async def save(self, attempt: PaymentAttempt, *, at_commit: bool = False) -> None:
        await self._table.update(attempt.id, attempt)  # (at commit or now: the same to the transaction's end)
        _track(self._seen, attempt)

    async def mark_pending_if_initiated(self, attempt: PaymentAttempt) -> None:
        if attempt.status is not AttemptStatus.PENDING:
            raise ValueError("mark_pending_if_initiated writes a PENDING attempt")
        if self._guards is not None:
            self._guards.append(lambda: self.write_pending(attempt))
            return
        await self.write_pending(attempt)

    async def write_pending(self, attempt: PaymentAttempt) -> None:
        """As hot_path.MARK_PENDING: three columns, only while INITIATED with no reference."""
        await self._table.lock(attempt.id)
        stored = self._table.read(attempt.id)
        if stored is None or stored.status is not AttemptStatus.INITIATED or stored.provider_reference is not None:
            raise WriteSkipped(f"attempt {attempt.id} is no longer INITIATED")
        stored.status, stored.provider_reference, stored.updated_at = (
            AttemptStatus.PENDING, attempt.provider_reference, attempt.updated_at)
        await self._table.update(attempt.id, stored)

    async def for_order(self, order_id: uuid.UUID) -> list[PaymentAttempt]:
        return sorted(self._table.select(lambda a: a.order_id == order_id), key=lambda a: a.attempt_number)

    async def unsettled(self, updated_before: datetime, limit: int) -> list[PaymentAttempt]:
        stale = self._table.select(lambda a: a.status in UNSETTLED and a.updated_at < updated_before)
        return sorted(stale, key=lambda a: a.updated_at)[:limit]

    async def awaiting_review(self, held_before: datetime, limit: int) -> list[PaymentAttempt]:
        held = self._table.select(lambda a: a.status is AttemptStatus.REQUIRES_REVIEW and a.updated_at <= held_before)
        return sorted(held, key=lambda a: a.updated_at)[:limit]

    async def card_failures(self, merchant_id: uuid.UUID, card_fingerprint: str, since: datetime) -> int:
        return len(self._table.select(
            lambda a: a.merchant_id == merchant_id and a.card_fingerprint == card_fingerprint
            and a.status is AttemptStatus.FAILED and a.updated_at >= since and a.failure_code not in FRAUD_REFUSALS))


class InMemoryRefundRepository:
    def __init__(self, table: _Table, seen: list[EventRecorder]) -> None:
        self._table, self._seen = table, seen

    async def add(self, refund: Refund) -> None:
        await self._table.insert(refund.id, refund)
        _track(self._seen, refund)

    async def get(self, refund_id: uuid.UUID, *, lock: bool = False) -> Refund | None:
        if lock:
            await self._table.lock(refund_id)
        return _track(self._seen, self._table.read(refund_id))

    async def save(self, refund: Refund) -> None:
        await self._table.update(refund.id, refund)
        _track(self._seen, refund)

    async def for_order(self, order_id: uuid.UUID) -> list[Refund]:
        ours = self._table.select(lambda r: r.order_id == order_id and r.purpose is not RefundPurpose.UNREQUESTED_CAPTURE)
        return sorted(ours, key=lambda r: r.created_at)

    async def add_unrequested(self, refund: Refund) -> bool:
        inserted = await self._table.insert(refund.id, refund, on_conflict_do_nothing=True)
        if inserted:
            _track(self._seen, refund)
        return inserted

    async def claim_due(self, now: datetime, lease_s: float, limit: int) -> list[Refund]:
        due = self._table.select(lambda r: r.status is RefundStatus.PENDING and r.next_attempt_at is not None
                                 and r.next_attempt_at <= now)
        claimed = []
        for refund in sorted(due, key=lambda r: r.next_attempt_at)[:limit]:
            await self._table.lock(refund.id)  # (no SKIP LOCKED here: tests claim one at a time)
            refund.lease(now, lease_s)
            await self._table.update(refund.id, refund)
            claimed.append(_track(self._seen, refund))
        return claimed

    async def by_status(self, status: RefundStatus, limit: int) -> list[Refund]:
        found = self._table.select(lambda r: r.status is status)
        return sorted(found, key=lambda r: r.created_at, reverse=True)[:limit]


class InMemoryMismatchRepository:
    def __init__(self, table: _Table, seen: list[EventRecorder]) -> None:
        self._table, self._seen = table, seen

    async def add(self, mismatch: VerdictMismatch) -> None:
        await self._table.insert(mismatch.id, mismatch)
        _track(self._seen, mismatch)

    async def recent(self, limit: int) -> list[VerdictMismatch]:
        return sorted(self._table.select(lambda m: True), key=lambda m: m.created_at, reverse=True)[:limit]


class InMemoryMerchantRepository:
    def __init__(self, table: _Table) -> None:
        self._table = table

    async def add(self, merchant: Merchant) -> None:
        await self._table.insert(merchant.id, merchant)

    async def get(self, merchant_id: uuid.UUID, *, lock: bool = False) -> Merchant | None:
        if lock:
            await self._table.lock(merchant_id)
        return self._table.read(merchant_id)

    async def get_by_key_hash(self, api_key_hash: str) -> Merchant | None:
        found = self._table.select(lambda m: m.key(api_key_hash) is not None)
        return found[0] if found else None

    async def save(self, merchant: Merchant) -> None:
        await self._table.update(merchant.id, merchant)

    async def list(self, limit: int, cursor: tuple[datetime, uuid.UUID] | None = None) -> list[Merchant]:
        rows = sorted(self._table.select(lambda m: cursor is None or (m.created_at, m.id) < cursor),
                      key=lambda m: (m.created_at, m.id), reverse=True)
        return rows[:limit]


class InMemoryCallbackInbox:
    def __init__(self, table: _Table) -> None:
        self._table = table

    async def first_delivery(self, provider: str, event_id: str) -> bool:
        key = (provider, event_id)
        return await self._table.insert(key, key, on_conflict_do_nothing=True)


class InMemoryUnitOfWork:
    """One transaction over an InMemoryDatabase. Opened inside another unit of work of the
    same factory (in the same task) it joins that one's transaction, as the Piccolo one
    does: its writes are the outer's at once, its commit hands its events on, and ending
    without a commit after writing (or on an exception) dooms the outer: RollbackOnly."""

    def __init__(self, db: InMemoryDatabase, current: ContextVar[InMemoryUnitOfWork | None],
                 bus: EventBus | None = None, kind: str = "transaction") -> None:
        self._db, self._current, self._bus = db, current, bus
        self._kind = kind  # "transaction", "reading" or "single_statement" (whose root defers its inserts)
        self._defers = False  # its inserts wait for the root's commit (set on entering)
        self.committed = False
        self.audit = AuditLog()
        self.actor: Actor = SYSTEM  # who the records say acted (the driver's, in the real one)
        self.correlation_id: str | None = None
        self.committed_events: list[DomainEvent] = []  # what reached the outbox through this unit

    async def __aenter__(self) -> InMemoryUnitOfWork:
        self._parent = self._current.get()
        if self._parent is not None and self._parent._defers and self._kind == "transaction":
            raise RuntimeError("a transactional unit of work cannot join a single-statement one")
        self._defers = self._parent._defers if self._parent else self._kind == "single_statement"
        self._deferred: list[Order] = []
        self._guards: list[Callable[[], Awaitable[None]]] = []  # a single-statement unit's conditional writes
        self._token = self._current.set(self)
        self._root: InMemoryUnitOfWork = self._parent._root if self._parent else self
        self._held: dict[Hashable, asyncio.Lock] = {}
        self._seen: list[EventRecorder] = []
        self._from_nested: list[DomainEvent] = []  # events of committed nested units, kept until ours
        self._rollback_only = False
        self._tables: dict[str, _Table] = self._parent._tables if self._parent else {
            name: _Table(name, getattr(self._db, name), self._acquire) for name in UNIQUE_KEYS}
        self._writes_at_start = self._write_count()
        self.payments = InMemoryPaymentRepository(self._tables["payments"], self._seen,
                                                  self._guards if self._defers else None)
        self.refunds = InMemoryRefundRepository(self._tables["refunds"], self._seen)
        self.orders = InMemoryOrderRepository(self._tables["orders"], self._seen, self.payments, self.refunds,
                                              self._deferred if self._defers else None)
        self.merchants = InMemoryMerchantRepository(self._tables["merchants"])
        self.callbacks = InMemoryCallbackInbox(self._tables["callbacks"])
        self.products = InMemoryProductRepository(self._tables["products"], self._tables["adjustments"],
                                                  lambda aggregate: _track(self._seen, aggregate))
        self.reservations = InMemoryReservationRepository(self._tables["reservations"])
        self.processed = InMemoryProcessedEvents(self._tables["processed"], self._guards if self._defers else None)
        self.mismatches = InMemoryMismatchRepository(self._tables["mismatches"], self._seen)
        self.users = InMemoryUserRepository(self._tables["users"])
        self.refresh_tokens = InMemoryRefreshTokenRepository(self._tables["refresh_tokens"])
        self.cards = InMemorySavedCardRepository(self._tables["cards"])
        self.committed = False
        return self

    def _write_count(self) -> int:
        return sum(table.writes for table in self._tables.values())

    async def commit(self) -> None:
        if self._rollback_only:
            raise RollbackOnly("a nested unit of work did not commit")
        if self._defers and self._write_count() != self._writes_at_start:
            raise RuntimeError("a single-statement unit of work wrote before its commit")
        if self._parent is not None:
            self._parent._deferred.extend(self._deferred)
            self._parent._guards.extend(self._guards)
        else:
            for guarded_write in self._guards:  # first, as the statement's condition: nothing else without it
                try:
                    await guarded_write()
                except WriteSkipped:
                    self.audit.take()  # nothing was written: not an operation to record
                    raise
            for order in self._deferred:  # all or nothing, as the one statement
                if not await self._tables["orders"].insert(order.id, order, on_conflict_do_nothing=True):
                    raise duplicate_order(order.merchant_reference, await self.orders.get_by_reference(
                        order.merchant_id, order.merchant_reference or ""))
        self._deferred.clear()
        self._guards.clear()
        events = self._from_nested + [event for aggregate in self._seen for event in aggregate.pull_events()]
        events = await with_order_snapshots(events, list(self._seen), self.orders.get)
        self._from_nested = []
        if self._parent is not None:
            self._parent._from_nested.extend(events)
            self._parent.audit.adopt(self.audit.take())
        else:
            for table in self._tables.values():
                table.publish()
            self._db.outbox.extend(events)
            self._db.audit.extend(finished(self.audit.take(), self.actor, self.correlation_id))
            self._db.commits += 1
            self.committed_events.extend(events)
        self.committed = True

    async def __aexit__(self, *exc_info: object) -> None:
        # Rollback is simply forgetting: uncommitted writes never reached the committed rows.
        self._current.reset(self._token)
        if self.audit.entries:  # reads and failures: recorded on their own, as the real one does
            self._db.audit.extend(finished(self.audit.take(), self.actor, self.correlation_id,
                                           exc_info[1] if isinstance(exc_info[1], BaseException) else None))
        if self._parent is not None:
            if not self.committed and (exc_info[0] is not None or self._write_count() != self._writes_at_start):
                self._parent._rollback_only = True
            return
        for lock in self._held.values():
            lock.release()
        self._held.clear()
        if self.committed and self._bus is not None and self.committed_events:
            await self._bus.publish(list(self.committed_events))

    async def _acquire(self, key: Hashable) -> None:
        if key in self._held:
            return  # this transaction already holds it
        lock = self._db.locks.setdefault(key, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), LOCK_TIMEOUT_S)
        except TimeoutError:
            raise LockTimeout(f"lock on {key} not granted within {LOCK_TIMEOUT_S} s") from None
        self._held[key] = lock


class InMemoryUnitOfWorkFactory:
    """Hands out units of work over one shared InMemoryDatabase (what tests assert on)."""

    def __init__(self, db: InMemoryDatabase | None = None, bus: EventBus | None = None) -> None:
        self.db = db or InMemoryDatabase()
        self.bus = bus
        self._current: ContextVar[InMemoryUnitOfWork | None] = ContextVar(f"fake_uow_{id(self)}", default=None)

    def __call__(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.db, self._current, self.bus)

    def reading(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.db, self._current, self.bus, "reading")

    def single_statement(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.db, self._current, self.bus, "single_statement")

    @property
    def outbox(self) -> list[DomainEvent]:
        return self.db.outbox

    @property
    def commits(self) -> int:
        return self.db.commits

    def seed(self, *rows: Order | PaymentAttempt | Refund | Merchant | Product | User) -> None:
        """Put rows straight into the committed state: test set-up, no events, no commit."""
        tables: dict[type, dict[Any, Any]] = {
            Order: self.db.orders, PaymentAttempt: self.db.payments, Refund: self.db.refunds,
            Merchant: self.db.merchants, Product: self.db.products, User: self.db.users}
        for row in rows:
            tables[type(row)][row.id] = _stored(row)


class InMemoryEventBus:
    def __init__(self) -> None:
        self.published: list[DomainEvent] = []

    async def publish(self, events: list[DomainEvent]) -> None:
        self.published.extend(events)


class InMemoryLockManager:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self.held: set[str] = set()

    @asynccontextmanager
    async def hold(self, name: str, timeout_s: float) -> AsyncIterator[None]:
        lock = self._locks.setdefault(name, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), timeout_s)
        except TimeoutError:
            raise Conflict(f"lock {name!r} is busy", code="lock_timeout") from None
        self.held.add(name)
        try:
            yield
        finally:
            self.held.discard(name)
            lock.release()


class FakeClock:
    """A clock tests move by hand: set `at`, or advance() it."""

    def __init__(self, at: datetime = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> datetime:
        self.at += timedelta(seconds=seconds)
        return self.at


class FakeWebhookTargetPolicy:
    """Refuses exactly the URLs it was given, with a reason."""

    def __init__(self, *refused: str) -> None:
        self.refused = set(refused)

    def refusal(self, url: str) -> str | None:
        return f"{url} is not public" if url in self.refused else None

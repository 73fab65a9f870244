"""Ports: the Protocols the use cases depend on. Adapters implement them without
inheriting from them; tests implement them with in-memory fakes."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import AsyncContextManager, Protocol

from app.domain.events import DomainEvent
from app.domain.model.audit import AuditLog
from app.domain.model.card import CardDetails, CardToken
from app.domain.model.fraud import FraudRule
from app.domain.model.fraud_evaluation import FraudDecision
from app.domain.model.catalog import Product, StockAdjustment, StockChange, StockLevel
from app.domain.model.inventory import StockReservation
from app.domain.model.merchant import Merchant
from app.domain.model.money import Money
from app.domain.model.mismatch import VerdictMismatch
from app.domain.model.order import Order, OrderStatus
from app.domain.model.payment import PaymentAttempt
from app.domain.model.refund import Refund, RefundStatus
from app.domain.model.provider import PaymentRequest, ProviderEvent, ProviderResult, RefundRequest
from app.domain.ports_accounts import RefreshTokenRepository, UserRepository
from app.domain.ports_vault import SavedCardRepository


class Clock(Protocol):
    def now(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class OrderQuery:
    merchant_id: uuid.UUID
    status: OrderStatus | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    cursor: tuple[datetime, uuid.UUID] | None = None  # keyset: strictly older than this
    limit: int = 50
    user_id: uuid.UUID | None = None  # only this customer's orders


class OrderRepository(Protocol):
    async def add(self, order: Order) -> bool:
        """Insert; False (and nothing written) when the merchant reference is already used.
        In a single-statement unit the insert waits for the commit: True, and a taken
        reference makes commit() raise DuplicateOrder (naming the order that has it), with
        nothing written."""

    async def get(self, merchant_id: uuid.UUID, order_id: uuid.UUID, *, lock: bool = False) -> Order | None:
        """The merchant's order, or None; `lock` takes the row lock (SELECT ... FOR UPDATE)."""

    async def locked_with_attempt(self, attempt_id: uuid.UUID) -> tuple[Order, PaymentAttempt] | None:
        """A payment attempt and its order, both row-locked in one read, the order's lock
        taken first (the order every path locks them in); None if there is no such attempt."""

    async def get_by_reference(self, merchant_id: uuid.UUID, reference: str) -> Order | None: ...

    async def view(self, merchant_id: uuid.UUID,
                   order_id: uuid.UUID) -> tuple[Order, builtins.list[PaymentAttempt], builtins.list[Refund]] | None:
        """The merchant's order with its payment attempts (by number) and its refunds (oldest
        first, not those of captures nobody asked for), read together; None if absent."""

    async def save(self, order: Order, *, at_commit: bool = False) -> None:
        """`at_commit`: written with the unit's commit statement instead of now (one round
        trip less); only for an order this transaction holds locked and does not read back."""

    async def list(self, query: OrderQuery) -> list[Order]:
        """Newest first, at most query.limit + 1 rows (the extra one tells there is a next page)."""


class PaymentRepository(Protocol):
    async def add(self, attempt: PaymentAttempt) -> None: ...

    async def get(self, attempt_id: uuid.UUID, *, merchant_id: uuid.UUID | None = None,
                  lock: bool = False) -> PaymentAttempt | None: ...

    async def save(self, attempt: PaymentAttempt, *, at_commit: bool = False) -> None:
        """`at_commit`: as OrderRepository.save's."""

    async def mark_pending_if_initiated(self, attempt: PaymentAttempt) -> None:
        """Write the attempt's PENDING state (status, provider reference, updated_at) only
        if the stored one is still INITIATED with no provider reference; WriteSkipped
        otherwise. The only write a single-statement unit may make to an attempt: at its
        commit, as the condition every other write of that commit depends on."""

    async def for_order(self, order_id: uuid.UUID) -> list[PaymentAttempt]: ...

    async def unsettled(self, updated_before: datetime, limit: int) -> list[PaymentAttempt]:
        """INITIATED or PENDING attempts not touched since `updated_before`, oldest first."""

    async def awaiting_review(self, held_before: datetime, limit: int) -> list[PaymentAttempt]:
        """REQUIRES_REVIEW attempts held at or before `held_before`, oldest first."""

    async def card_failures(self, merchant_id: uuid.UUID, card_fingerprint: str, since: datetime) -> int:
        """The merchant's FAILED attempts with this card since `since`, not counting the
        fraud rules' own refusals (fraud_blocked, fraud_rejected)."""


class RefundRepository(Protocol):
    async def add(self, refund: Refund) -> None: ...

    async def get(self, refund_id: uuid.UUID, *, lock: bool = False) -> Refund | None: ...

    async def save(self, refund: Refund) -> None: ...

    async def for_order(self, order_id: uuid.UUID) -> list[Refund]: ...

    async def add_unrequested(self, refund: Refund) -> bool:
        """Insert a refund of an unrequested capture unless that capture (provider,
        target_reference) already has one; False (nothing written) then. Atomic: of
        concurrent duplicates exactly one inserts."""

    async def claim_due(self, now: datetime, lease_s: float, limit: int) -> list[Refund]:
        """PENDING refunds whose next_attempt_at has come, locked FOR UPDATE SKIP LOCKED and
        leased (next_attempt_at pushed `lease_s` ahead) so no other worker takes them."""

    async def by_status(self, status: RefundStatus, limit: int) -> list[Refund]:
        """Every merchant's refunds in this state, newest first (operators' view)."""


class MismatchRepository(Protocol):
    async def add(self, mismatch: VerdictMismatch) -> None: ...

    async def recent(self, limit: int) -> list[VerdictMismatch]: ...


class MerchantRepository(Protocol):
    async def add(self, merchant: Merchant) -> None: ...

    async def get(self, merchant_id: uuid.UUID, *, lock: bool = False) -> Merchant | None: ...

    async def get_by_key_hash(self, api_key_hash: str) -> Merchant | None:
        """The merchant that ever had this key (live or not: the caller checks)."""

    async def save(self, merchant: Merchant) -> None:
        """Its fields and its keys (new keys added, expiries changed)."""

    async def list(self, limit: int, cursor: tuple[datetime, uuid.UUID] | None = None) -> builtins.list[Merchant]:
        """Newest first; `cursor`: strictly older than this (created_at, id)."""


class KeyRevocations(Protocol):
    """Tells every API process that merchant keys changed (a deactivation, a rotation),
    so their in-process key caches drop what they hold at once."""

    async def changed(self) -> None: ...

    async def version(self) -> str:
        """Changes whenever `changed()` is called (by any process)."""


@dataclass(frozen=True, slots=True)
class ProductQuery:
    merchant_id: uuid.UUID
    active: bool | None = None
    cursor: tuple[datetime, uuid.UUID] | None = None  # keyset: strictly older than this
    limit: int = 50


class ProductRepository(Protocol):
    async def add(self, product: Product) -> bool:
        """Insert; False (and nothing written) when the merchant already has this sku."""

    async def get(self, merchant_id: uuid.UUID, product_id: uuid.UUID, *, lock: bool = False) -> Product | None: ...

    async def by_skus(self, merchant_id: uuid.UUID, skus: list[str], *, lock: bool = False) -> dict[str, Product]:
        """The merchant's products with these skus; `lock` takes their row locks in sku
        order, the one order every stock-moving transaction locks them in (no deadlocks)."""

    async def save(self, product: Product) -> None:
        """The catalog fields only; the stock columns move through change_stock alone."""

    async def list(self, query: ProductQuery) -> list[Product]:
        """Newest first, at most query.limit + 1 rows."""

    async def change_stock(self, product_id: uuid.UUID, change: StockChange) -> StockLevel:
        """Apply deltas in one statement and return the new level. The database refuses a
        level breaking 0 <= reserved + allocated <= on_hand: that raises InsufficientStock."""

    async def add_adjustment(self, adjustment: StockAdjustment) -> None: ...

    # builtins.list: a bare `list` here would be this class's list() method
    async def adjustments(self, product_id: uuid.UUID, limit: int) -> builtins.list[StockAdjustment]:
        """Newest first."""


class ReservationRepository(Protocol):
    async def add(self, reservation: StockReservation) -> None:
        """Insert; an order holds at most one active (RESERVED or ALLOCATED) reservation
        per product, a unique index: a second one raises Conflict."""

    async def active_for_order(self, order_id: uuid.UUID, *, lock: bool = False) -> list[StockReservation]:
        """RESERVED and ALLOCATED reservations of the order, in sku order."""

    async def save(self, reservation: StockReservation) -> None: ...

    async def expired(self, now: datetime, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(merchant id, order id) of orders holding RESERVED stock past its expiry."""


class ProcessedEvents(Protocol):
    async def claim(self, consumer: str, event_id: uuid.UUID) -> bool:
        """Record in this transaction that `consumer` handled the event; False if it had."""

    async def claim_at_commit(self, consumer: str, event_id: uuid.UUID) -> None:
        """As claim(), in a single-statement unit of work: at its commit, as the condition
        of everything else it writes (WriteSkipped when the event was claimed before:
        nothing written). In a transactional unit: now, WriteSkipped likewise."""


class CallbackInbox(Protocol):
    async def first_delivery(self, provider: str, event_id: str) -> bool:
        """Record a provider event id; False when it was recorded before (a duplicate)."""


class UnitOfWork(Protocol):
    """One database transaction. Rolls back unless commit() is called; on commit it
    writes the events the aggregates recorded to the outbox, in the same transaction."""

    # Read-only: an adapter's own repository types (PiccoloOrderRepository, ...) satisfy them.
    @property
    def orders(self) -> OrderRepository: ...

    @property
    def payments(self) -> PaymentRepository: ...

    @property
    def refunds(self) -> RefundRepository: ...

    @property
    def merchants(self) -> MerchantRepository: ...

    @property
    def callbacks(self) -> CallbackInbox: ...

    @property
    def products(self) -> ProductRepository: ...

    @property
    def reservations(self) -> ReservationRepository: ...

    @property
    def processed(self) -> ProcessedEvents: ...

    @property
    def mismatches(self) -> MismatchRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...

    @property
    def cards(self) -> SavedCardRepository: ...

    # The operations this unit records in the audit trail (see app/domain/model/audit.py).
    audit: AuditLog

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    async def commit(self) -> None: ...


class RollbackOnly(RuntimeError):
    """Raised by UnitOfWork.commit() when a unit of work nested in it (which joins its
    transaction: no savepoints) wrote and ended without committing: all of it must go."""


class WriteSkipped(RuntimeError):
    """A conditional write (PaymentRepository.mark_pending_if_initiated,
    ProcessedEvents.claim_at_commit) found its row moved on or taken, so nothing was written: raised by the write, or, in a single-statement unit
    of work, by its commit, which then wrote nothing else either."""


class WebhookTargetPolicy(Protocol):
    def refusal(self, url: str) -> str | None:
        """Why `url` may never be a webhook target (a non-public address or local name the
        operator did not allowlist), or None. Judged without DNS: names are judged again
        when each delivery resolves them."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...

    def reading(self) -> UnitOfWork:
        """A unit that only reads, one statement at a time with no transaction around them
        (each statement sees its own snapshot): for a read done in one statement. It may
        not commit; inside another unit it joins that one, as any unit does."""

    def single_statement(self) -> UnitOfWork:
        """A unit for a use case whose only writes are inserts its repositories can defer
        (orders.add): no transaction around its reads, each running on its own; its
        inserts, events and audit records written by commit() in one statement, atomic by
        itself. Any other write in it fails. Inside a transactional unit it joins that one
        (and writes at once); a transactional unit cannot join it."""


class EventBus(Protocol):
    """Hands committed events to their handlers (in-process, or via the outbox relay)."""

    async def publish(self, events: list[DomainEvent]) -> None: ...


class LockManager(Protocol):
    def hold(self, name: str, timeout_s: float) -> AsyncContextManager[None]:
        """A short-lived distributed lock; raises Conflict if it cannot be had in time."""


class CardDataCache(Protocol):
    """Card details between the request and the provider call: encrypted, short-lived,
    never in PostgreSQL (PCI: the CVC must not be stored after authorisation)."""

    async def put(self, attempt_id: uuid.UUID, method: CardDetails | CardToken) -> None: ...

    async def get(self, attempt_id: uuid.UUID) -> CardDetails | CardToken | None: ...

    async def discard(self, attempt_id: uuid.UUID) -> None: ...


class PaymentProvider(Protocol):
    """One payment provider (ActiveMerchant / Kill Bill style)."""

    name: str
    # False where the shopper pays on the provider's own page (a redirect, as with PayPal):
    # the request then carries no card or token.
    needs_payment_method: bool

    async def purchase(self, request: PaymentRequest) -> ProviderResult: ...

    async def refund(self, request: RefundRequest) -> ProviderResult: ...

    async def get_status(self, attempt_id: uuid.UUID, provider_reference: str | None,
                         amount: Money | None = None) -> ProviderResult:
        """The attempt's verdict, by the provider's reference when known. Without one the
        provider may search for the attempt; a search result counts only when it carries
        the attempt id and `amount` (amount and currency), so without `amount` it counts not."""

    async def parse_callback(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        """Verify and normalise a callback; raises InvalidCallback / MalformedCallback."""


class VerdictAlarm(Protocol):
    """Tells operators at once that a provider verdict did not match (metric + log)."""

    def mismatch(self, mismatch: VerdictMismatch) -> None: ...


class ProviderRegistry(Protocol):
    def get(self, name: str) -> PaymentProvider:
        """The provider called `name`; raises UnknownProvider."""

    def names(self) -> list[str]: ...


class FraudRuleStore(Protocol):
    """Each merchant's fraud rule set, replaced as a whole (never half-applied)."""

    async def get(self, merchant_id: uuid.UUID) -> list[FraudRule]:
        """The set in evaluation order; empty when the merchant has none."""

    async def replace(self, merchant_id: uuid.UUID, rules: list[FraudRule]) -> None: ...


class VelocityCounter(Protocol):
    """Attempt counts per subject (card, customer, ip, email) over sliding windows, shared
    by every API process: recording and counting are one atomic step."""

    async def hit(self, merchant_id: uuid.UUID, subjects: Mapping[str, tuple[str, frozenset[int]]],
                  member: str, now: datetime) -> dict[tuple[str, int], int]:
        """Record attempt `member` for each subject {name: (value, windows)} and return
        {(name, window_s): attempts within window_s, this one included}."""


class CardFingerprints(Protocol):
    def of(self, merchant_id: uuid.UUID, method: CardDetails | CardToken) -> str | None:
        """The vault's keyed fingerprint of the card, scoped to the merchant (the same card,
        the same fingerprint, saved or not); None for a token the vault did not issue."""


class FraudDecisionMetrics(Protocol):
    def decided(self, decision: FraudDecision) -> None: ...

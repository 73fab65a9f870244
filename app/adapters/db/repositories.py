"""Piccolo repositories. They run inside the unit of work's transaction (Piccolo keeps
it in a context variable) and remember every aggregate they hand out or take in, so the
unit of work can collect the events those aggregates recorded."""

from __future__ import annotations

import builtins
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from asyncpg.exceptions import LockNotAvailableError, UniqueViolationError
from piccolo.columns import Column
from piccolo.custom_types import Combinable

from app.adapters.db import hot_path, mappers
from app.adapters.db.commit_writes import CommitWrites
from app.adapters.db.merchant_secrets import WebhookSecretBox
from app.adapters.db.tables import (
    CallbackInboxTable, MerchantTable, OrderTable, PaymentAttemptTable, RefundTable, VerdictMismatchTable,
)
from app.domain.errors import Conflict, DuplicateOrder
from app.domain.events import EventRecorder
from app.domain.model.merchant import Merchant
from app.domain.model.order import Order, duplicate_order
from app.domain.model.mismatch import VerdictMismatch
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.domain.model.refund import Refund, RefundStatus
from app.domain.ports import OrderQuery, WriteSkipped


class Touched:
    """What a unit of work's repositories handed out or took in, and whether they wrote."""

    def __init__(self) -> None:
        self.aggregates: list[EventRecorder] = []
        self.wrote = False
        self.deferring = False  # a single-statement unit's: writes wait for its commit


class _Tracking:
    def __init__(self, touched: Touched) -> None:
        self.touched = touched

    def _track(self, aggregate: Any, wrote: bool = False) -> Any:
        if wrote and self.touched.deferring:
            # A write that ran at once, with no transaction around it: a use case that
            # writes so may not use a single-statement unit (this catches it in its tests).
            raise RuntimeError(f"{type(self).__name__} cannot defer this write to a single-statement commit")
        if aggregate is not None and aggregate not in self.touched.aggregates:
            self.touched.aggregates.append(aggregate)
        self.touched.wrote |= wrote
        return aggregate


def _at_commit(writes: CommitWrites | None, sql: str, args: tuple[Any, ...], at_commit: bool) -> bool:
    """Send a row's UPDATE with the unit's commit statement (True), or now (False). A save
    now drops one waiting for the commit (its state is older); the last state wins."""
    if writes is None:
        return False
    key = (sql, args[ATTEMPT_ID_INDEX if sql == hot_path.UPDATE_ATTEMPT else 0])
    if at_commit and not writes.guard and writes.claim is None:
        writes.updates.pop(key, None)
        writes.updates[key] = args  # (re-inserted: after anything it now follows)
        return True
    writes.updates.pop(key, None)
    return False


ATTEMPT_ID_INDEX = hot_path.ATTEMPT_COLUMNS.index("id")


async def _first(query: Any, lock: bool) -> dict[str, Any] | None:
    if lock:
        query = query.lock_rows()
    return await query.first().output(load_json=True).run()


async def _fetch_locking(sql: str, *args: Any) -> Any:
    """A row read (and maybe locked) on the unit of work's connection; a row lock held past
    the database's lock_timeout by another transaction is a 409 order_busy."""
    try:
        return await hot_path.connection(OrderTable._meta.db).fetchrow(sql, *args)
    except LockNotAvailableError:
        raise Conflict("another request for this order is in progress; retry shortly", code="order_busy") from None


class PiccoloOrderRepository(_Tracking):
    def __init__(self, touched: Touched, deferred: builtins.list[tuple[Any, ...]] | None = None,
                 writes: CommitWrites | None = None) -> None:
        super().__init__(touched)
        self._deferred = deferred  # a single-statement unit's inserts, written at its commit
        self._writes = writes  # the unit's commit statement: saves at commit join it

    async def add(self, order: Order) -> bool:
        values = hot_path.order_values(mappers.order_to_row(order))
        if self._deferred is not None:
            self._deferred.append(tuple(values))
            self._track(order)
            self.touched.wrote = True
            return True  # a taken reference aborts the commit instead: refused()
        # DO NOTHING + RETURNING: a taken merchant reference is an answer, not an aborted transaction.
        inserted = await hot_path.connection(OrderTable._meta.db).fetchval(hot_path.INSERT_ORDER, *values)
        if inserted:
            self._track(order, wrote=True)
        return inserted is not None

    async def refused(self, deferred: builtins.list[tuple[Any, ...]]) -> DuplicateOrder:
        """Why a commit of these deferred inserts was refused: the order that holds a
        merchant reference (looked up once the commit statement was aborted)."""
        merchant, reference = hot_path.ORDER_COLUMNS.index("merchant_id"), hot_path.ORDER_COLUMNS.index(
            "merchant_reference")
        for row in deferred:
            if row[reference] is not None and (existing := await self.get_by_reference(row[merchant], row[reference])):
                return duplicate_order(row[reference], existing)
        return duplicate_order(next((row[reference] for row in deferred if row[reference] is not None), None), None)

    async def get(self, merchant_id: uuid.UUID, order_id: uuid.UUID, *, lock: bool = False) -> Order | None:
        sql = hot_path.SELECT_ORDER_FOR_UPDATE if lock else hot_path.SELECT_ORDER
        row = await _fetch_locking(sql, order_id, merchant_id)
        return self._track(mappers.order_from_row(row)) if row else None

    async def locked_with_attempt(self, attempt_id: uuid.UUID) -> tuple[Order, PaymentAttempt] | None:
        row = await _fetch_locking(hot_path.SELECT_ORDER_AND_ATTEMPT_FOR_UPDATE, attempt_id)
        if row is None:
            return None
        return self._track(mappers.order_from_row(row)), self._track(mappers.attempt_from_row(row["fxp_attempt"]))

    async def get_by_reference(self, merchant_id: uuid.UUID, reference: str) -> Order | None:
        query = OrderTable.select().where(
            (OrderTable.merchant_id == merchant_id) & (OrderTable.merchant_reference == reference)
        )
        row = await _first(query, False)
        return mappers.order_from_row(row) if row else None

    async def view(self, merchant_id: uuid.UUID,
                   order_id: uuid.UUID) -> tuple[Order, builtins.list[PaymentAttempt], builtins.list[Refund]] | None:
        row = await hot_path.connection(OrderTable._meta.db).fetchrow(hot_path.SELECT_ORDER_VIEW, order_id,
                                                                      merchant_id)
        if row is None:
            return None
        return (self._track(mappers.order_from_row(row)),
                [mappers.attempt_from_row(attempt) for attempt in row["fxp_attempts"]],
                [mappers.refund_from_row(refund) for refund in row["fxp_refunds"]])

    async def save(self, order: Order, *, at_commit: bool = False) -> None:
        values = hot_path.order_values(mappers.order_to_row(order))
        args = (values[0], *values[2:10], values[10], values[12], values[13])
        if _at_commit(self._writes, hot_path.UPDATE_ORDER, args, at_commit):
            self._track(order, wrote=True)
            return
        await hot_path.connection(OrderTable._meta.db).execute(hot_path.UPDATE_ORDER, *args)
        self._track(order, wrote=True)

    async def list(self, query: OrderQuery) -> list[Order]:
        where: Combinable = OrderTable.merchant_id == query.merchant_id
        if query.status is not None:
            where &= OrderTable.status == query.status.value
        if query.user_id is not None:
            where &= OrderTable.user_id == query.user_id
        if query.created_after is not None:
            where &= OrderTable.created_at >= query.created_after
        if query.created_before is not None:
            where &= OrderTable.created_at < query.created_before
        if query.cursor is not None:
            at, last_id = query.cursor
            where &= (OrderTable.created_at < at) | ((OrderTable.created_at == at) & (OrderTable.id < last_id))
        rows = await (
            OrderTable.select().where(where)
            .order_by(OrderTable.created_at, OrderTable.id, ascending=False)
            .limit(query.limit + 1).output(load_json=True).run()
        )
        return [mappers.order_from_row(row) for row in rows]


class PiccoloPaymentRepository(_Tracking):
    def __init__(self, touched: Touched, writes: CommitWrites | None = None) -> None:
        super().__init__(touched)
        self._writes = writes  # the unit's commit statement (a single-statement unit's guard, saves at commit)

    async def add(self, attempt: PaymentAttempt) -> None:
        try:
            await hot_path.connection(PaymentAttemptTable._meta.db).execute(
                hot_path.INSERT_ATTEMPT, *hot_path.attempt_values(mappers.attempt_to_row(attempt)))
        except UniqueViolationError as exc:  # the partial unique indexes: the database's last word
            raise Conflict("this order already has a payment in flight or a successful payment",
                           code="payment_in_progress", constraint=exc.constraint_name) from None
        self._track(attempt, wrote=True)

    async def get(self, attempt_id: uuid.UUID, *, merchant_id: uuid.UUID | None = None,
                  lock: bool = False) -> PaymentAttempt | None:
        connection = hot_path.connection(PaymentAttemptTable._meta.db)
        sql = hot_path.SELECT_ATTEMPT[(merchant_id is not None, lock)]
        row = await (connection.fetchrow(sql, attempt_id) if merchant_id is None
                     else connection.fetchrow(sql, attempt_id, merchant_id))
        return self._track(mappers.attempt_from_row(row)) if row else None

    async def save(self, attempt: PaymentAttempt, *, at_commit: bool = False) -> None:
        values = tuple(hot_path.attempt_values(mappers.attempt_to_row(attempt)))
        if _at_commit(self._writes, hot_path.UPDATE_ATTEMPT, values, at_commit):
            self._track(attempt, wrote=True)
            return
        await hot_path.connection(PaymentAttemptTable._meta.db).execute(hot_path.UPDATE_ATTEMPT, *values)
        self._track(attempt, wrote=True)

    async def mark_pending_if_initiated(self, attempt: PaymentAttempt) -> None:
        if attempt.status is not AttemptStatus.PENDING:
            raise ValueError("mark_pending_if_initiated writes a PENDING attempt")
        args = (attempt.id, attempt.provider_reference, attempt.updated_at)
        if self._writes is not None and self.touched.deferring:  # the commit's statement: the rest writes only if this does
            self._writes.guard = (hot_path.MARK_PENDING, args)
            return
        if await hot_path.connection(PaymentAttemptTable._meta.db).fetchval(hot_path.MARK_PENDING, *args) is None:
            raise WriteSkipped(f"attempt {attempt.id} is no longer INITIATED")
        self._track(attempt, wrote=True)

    async def for_order(self, order_id: uuid.UUID) -> list[PaymentAttempt]:
        rows = await hot_path.connection(PaymentAttemptTable._meta.db).fetch(
            hot_path.SELECT_ATTEMPTS_OF_ORDER, order_id)
        return [mappers.attempt_from_row(row) for row in rows]

    async def unsettled(self, updated_before: datetime, limit: int) -> list[PaymentAttempt]:
        rows = await (
            PaymentAttemptTable.select()
            .where(PaymentAttemptTable.status.is_in(["INITIATED", "PENDING"])
                   & (PaymentAttemptTable.updated_at < updated_before))
            .order_by(PaymentAttemptTable.updated_at).limit(limit).run()
        )
        return [mappers.attempt_from_row(row) for row in rows]

    async def awaiting_review(self, held_before: datetime, limit: int) -> list[PaymentAttempt]:
        rows = await (
            PaymentAttemptTable.select()
            .where((PaymentAttemptTable.status == "REQUIRES_REVIEW") & (PaymentAttemptTable.updated_at <= held_before))
            .order_by(PaymentAttemptTable.updated_at).limit(limit).run()
        )
        return [mappers.attempt_from_row(row) for row in rows]

    async def card_failures(self, merchant_id: uuid.UUID, card_fingerprint: str, since: datetime) -> int:
        return await hot_path.connection(PaymentAttemptTable._meta.db).fetchval(
            "SELECT count(*) FROM payment_attempts WHERE merchant_id = $1 AND card_fingerprint = $2"
            " AND status = 'FAILED' AND updated_at >= $3"
            " AND failure_code NOT IN ('fraud_blocked', 'fraud_rejected')", merchant_id, card_fingerprint, since)


class PiccoloRefundRepository(_Tracking):
    async def add(self, refund: Refund) -> None:
        await RefundTable.insert(RefundTable(**mappers.refund_to_row(refund))).run()
        self._track(refund, wrote=True)

    async def get(self, refund_id: uuid.UUID, *, lock: bool = False) -> Refund | None:
        row = await _first(RefundTable.select().where(RefundTable.id == refund_id), lock)
        return self._track(mappers.refund_from_row(row)) if row else None

    async def save(self, refund: Refund) -> None:
        row = cast("dict[Column | str, Any]", mappers.refund_to_row(refund))
        await RefundTable.update(row).where(RefundTable.id == refund.id).run()
        self._track(refund, wrote=True)

    async def for_order(self, order_id: uuid.UUID) -> list[Refund]:
        rows = await hot_path.connection(RefundTable._meta.db).fetch(hot_path.SELECT_REFUNDS_OF_ORDER, order_id)
        return [mappers.refund_from_row(row) for row in rows]

    async def add_unrequested(self, refund: Refund) -> bool:
        row = mappers.refund_to_row(refund)
        columns = list(row)
        sql = (f"INSERT INTO refunds ({', '.join(columns)}) VALUES "
               f"({', '.join(f'${i}' for i in range(1, len(columns) + 1))}) "
               "ON CONFLICT (provider, target_reference) WHERE target_reference IS NOT NULL DO NOTHING RETURNING id")
        inserted = await hot_path.connection(RefundTable._meta.db).fetchval(sql, *row.values())
        if inserted:
            self._track(refund, wrote=True)
        return inserted is not None

    async def claim_due(self, now: datetime, lease_s: float, limit: int) -> list[Refund]:
        rows = await hot_path.connection(RefundTable._meta.db).fetch(CLAIM_DUE_REFUNDS, now, lease_s, limit)
        return [self._track(mappers.refund_from_row(row)) for row in rows]

    async def by_status(self, status: RefundStatus, limit: int) -> list[Refund]:
        rows = await (RefundTable.select().where(RefundTable.status == status.value)
                      .order_by(RefundTable.created_at, ascending=False).limit(limit).run())
        return [mappers.refund_from_row(row) for row in rows]


# Due refunds are locked and leased in one statement; SKIP LOCKED lets workers split them.
CLAIM_DUE_REFUNDS = """
UPDATE refunds SET next_attempt_at = $1 + make_interval(secs => $2)
WHERE id IN (
    SELECT id FROM refunds WHERE status = 'PENDING' AND next_attempt_at <= $1
    ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
RETURNING *
"""


class PiccoloMismatchRepository(_Tracking):
    async def add(self, mismatch: VerdictMismatch) -> None:
        await VerdictMismatchTable.insert(VerdictMismatchTable(**mappers.mismatch_to_row(mismatch))).run()
        self._track(mismatch, wrote=True)

    async def recent(self, limit: int) -> list[VerdictMismatch]:
        rows = await (VerdictMismatchTable.select().order_by(VerdictMismatchTable.created_at, ascending=False)
                      .limit(limit).run())
        return [mappers.mismatch_from_row(row) for row in rows]


class PiccoloMerchantRepository:
    """Merchants with their API keys (merchant_api_keys); webhook secrets sealed at rest."""

    def __init__(self, secrets: WebhookSecretBox | None = None) -> None:
        self._secrets = secrets or WebhookSecretBox(None)

    async def add(self, merchant: Merchant) -> None:
        await MerchantTable.insert(MerchantTable(**self._row(merchant))).run()
        await self._save_keys(merchant)

    async def get(self, merchant_id: uuid.UUID, *, lock: bool = False) -> Merchant | None:
        row = await _first(MerchantTable.select().where(MerchantTable.id == merchant_id), lock)
        return await self._merchant(row) if row else None

    async def get_by_key_hash(self, api_key_hash: str) -> Merchant | None:
        rows = await MerchantTable.raw(
            "SELECT m.* FROM merchants m JOIN merchant_api_keys k ON k.merchant_id = m.id WHERE k.key_hash = {}",
            api_key_hash).run()
        return await self._merchant(rows[0]) if rows else None

    async def save(self, merchant: Merchant) -> None:
        row = self._row(merchant)
        del row["id"], row["created_at"]
        await MerchantTable.update({getattr(MerchantTable, name): value for name, value in row.items()}).where(
            MerchantTable.id == merchant.id).run()
        await self._save_keys(merchant)

    async def list(self, limit: int, cursor: tuple[datetime, uuid.UUID] | None = None) -> list[Merchant]:
        if cursor is None:
            rows = await MerchantTable.raw("SELECT * FROM merchants ORDER BY created_at DESC, id DESC LIMIT {}",
                                           limit).run()
        else:
            rows = await MerchantTable.raw(
                "SELECT * FROM merchants WHERE (created_at, id) < ({}, {}) ORDER BY created_at DESC, id DESC LIMIT {}",
                cursor[0], cursor[1], limit).run()
        return [await self._merchant(row) for row in rows]

    def _row(self, merchant: Merchant) -> dict[str, Any]:
        row = mappers.merchant_to_row(merchant)
        for name in ("webhook_secret", "previous_webhook_secret"):
            row[name] = self._secrets.seal(merchant.id, row[name])
        return row

    async def _merchant(self, row: dict[str, Any]) -> Merchant:
        row = dict(row)
        for name in ("webhook_secret", "previous_webhook_secret"):
            row[name] = self._secrets.readable(row["id"], row[name])
        keys = await MerchantTable.raw(
            "SELECT key_hash, created_at, expires_at FROM merchant_api_keys WHERE merchant_id = {} ORDER BY created_at",
            row["id"]).run()
        return mappers.merchant_from_row(row, keys)

    async def _save_keys(self, merchant: Merchant) -> None:
        connection = hot_path.connection(MerchantTable._meta.db)
        await connection.executemany(
            "INSERT INTO merchant_api_keys (key_hash, merchant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (key_hash) DO UPDATE SET expires_at = EXCLUDED.expires_at"
            " WHERE merchant_api_keys.merchant_id = EXCLUDED.merchant_id",
            [(key.hash, merchant.id, key.created_at, key.expires_at) for key in merchant.api_keys])

class PiccoloCallbackInbox:
    async def first_delivery(self, provider: str, event_id: str) -> bool:
        inserted = await hot_path.connection(CallbackInboxTable._meta.db).fetchval(
            hot_path.INSERT_CALLBACK, provider, event_id, datetime.now(UTC))
        return inserted is not None

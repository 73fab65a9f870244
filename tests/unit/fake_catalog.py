"""In-memory fakes of the catalog ports, on the same fake tables as fakes.py: row locks
in the order asked for, the products' CHECK (0 <= reserved + allocated <= on_hand)
refusing a stock change as the database does, one active reservation per order+product."""

from __future__ import annotations

import builtins
import copy
import uuid
from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import Any

from app.domain.errors import Conflict, InsufficientStock
from app.domain.model.catalog import Product, StockAdjustment, StockChange, StockLevel
from app.domain.model.inventory import ACTIVE, ReservationStatus, StockReservation
from app.domain.ports import ProductQuery, WriteSkipped

CATALOG_UNIQUE_KEYS: dict[str, Any] = {
    "products": lambda p: [("products_merchant_sku_key", p.merchant_id, p.sku)],
    "adjustments": lambda a: [],
    "reservations": lambda r: [("stock_reservations_one_active", r.order_id, r.product_id)]
    if r.status in ACTIVE else [],
    "processed": lambda key: [],
}


class InMemoryProductRepository:
    def __init__(self, table: Any, adjustments: Any, track: Any) -> None:
        self._table, self._adjustments, self._track = table, adjustments, track

    async def add(self, product: Product) -> bool:
        inserted = await self._table.insert(product.id, product, on_conflict_do_nothing=True)
        if inserted:
            self._track(product)
        return bool(inserted)

    async def get(self, merchant_id: uuid.UUID, product_id: uuid.UUID, *, lock: bool = False) -> Product | None:
        if lock:
            await self._table.lock(product_id)
        product = self._table.read(product_id)
        return self._track(product) if product is not None and product.merchant_id == merchant_id else None

    async def by_skus(self, merchant_id: uuid.UUID, skus: list[str], *, lock: bool = False) -> dict[str, Product]:
        found = sorted(self._table.select(lambda p: p.merchant_id == merchant_id and p.sku in skus),
                       key=lambda p: p.sku)
        if lock:
            for product in found:
                await self._table.lock(product.id)
            found = [self._table.read(product.id) for product in found]  # as of after the wait
        return {product.sku: product for product in found}

    async def save(self, product: Product) -> None:
        await self._table.lock(product.id)
        stored = self._table.read(product.id)
        kept = copy.copy(product)
        kept.stock = stored.stock  # catalog fields only, as the UPDATE writes them
        await self._table.update(product.id, kept)
        self._track(product)

    async def list(self, query: ProductQuery) -> list[Product]:
        def matches(p: Product) -> bool:
            return (p.merchant_id == query.merchant_id and (query.active is None or p.active is query.active)
                    and (query.cursor is None or (p.created_at, p.id) < query.cursor))

        return sorted(self._table.select(matches), key=lambda p: (p.created_at, p.id), reverse=True)[: query.limit + 1]

    async def change_stock(self, product_id: uuid.UUID, change: StockChange) -> StockLevel:
        await self._table.lock(product_id)
        stored = self._table.read(product_id)
        level = stored.stock.changed(change)
        if level.on_hand < 0 or not level.holds:
            raise InsufficientStock("not enough stock for this change",
                                    constraint="products_stock_committed_within_on_hand")
        stored.stock = level
        await self._table.update(product_id, stored)
        return level

    async def add_adjustment(self, adjustment: StockAdjustment) -> None:
        await self._adjustments.insert(adjustment.id, adjustment)

    # builtins.list: a bare `list` here would be this class's list() method
    async def adjustments(self, product_id: uuid.UUID, limit: int) -> builtins.list[StockAdjustment]:
        rows = self._adjustments.select(lambda a: a.product_id == product_id)
        return sorted(rows, key=lambda a: a.created_at, reverse=True)[:limit]


class InMemoryReservationRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    async def add(self, reservation: StockReservation) -> None:
        from tests.unit.fakes import UniqueViolation

        try:
            await self._table.insert(reservation.id, reservation)
        except UniqueViolation as exc:
            raise Conflict("this order already holds stock of this product", code="stock_already_held",
                           constraint=exc.constraint) from None

    async def active_for_order(self, order_id: uuid.UUID, *, lock: bool = False) -> list[StockReservation]:
        found = sorted(self._table.select(lambda r: r.order_id == order_id and r.status in ACTIVE),
                       key=lambda r: r.sku)
        if lock:
            for reservation in found:
                await self._table.lock(reservation.id)
            found = [r for r in (self._table.read(r.id) for r in found) if r.status in ACTIVE]
        return found

    async def save(self, reservation: StockReservation) -> None:
        await self._table.update(reservation.id, reservation)

    async def expired(self, now: datetime, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
        rows = self._table.select(lambda r: r.status is ReservationStatus.RESERVED and r.expires_at <= now)
        return list(dict.fromkeys((r.merchant_id, r.order_id) for r in rows))[:limit]


class InMemoryProcessedEvents:
    def __init__(self, table: Any, guards: list[Callable[[], Awaitable[None]]] | None = None) -> None:
        self._table = table
        self._guards = guards  # a single-statement unit's conditional writes, made at its commit

    async def claim_at_commit(self, consumer: str, event_id: uuid.UUID) -> None:
        if self._guards is not None:
            self._guards.append(lambda: self.claim_at_commit_now(consumer, event_id))
            return
        await self.claim_at_commit_now(consumer, event_id)

    async def claim_at_commit_now(self, consumer: str, event_id: uuid.UUID) -> None:
        if not await self.claim(consumer, event_id):
            raise WriteSkipped(f"event {event_id} was handled by {consumer} before")

    async def claim(self, consumer: str, event_id: uuid.UUID) -> bool:
        key: Hashable = (consumer, event_id)
        return bool(await self._table.insert(key, key, on_conflict_do_nothing=True))

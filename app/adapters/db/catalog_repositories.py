"""Piccolo repositories for the catalog and stock reservations. The stock-moving
statements are constant SQL on the unit of work's connection: row locks taken in sku
order, counters moved by deltas in one UPDATE, and the products table's CHECK
(reserved + allocated <= on_hand) turned into InsufficientStock when it refuses one."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any, cast

from asyncpg.exceptions import CheckViolationError, UniqueViolationError
from piccolo.columns import Column
from piccolo.custom_types import Combinable

from app.adapters.db import hot_path
from app.adapters.db.catalog_rows import (
    PRODUCT_COLUMNS, adjustment_from_row, adjustment_to_row, product_from_row, product_to_row,
    reservation_from_row, reservation_to_row, stock_from_row,
)
from app.adapters.db.repositories import Touched, _Tracking
from app.adapters.db.tables import ProductTable, StockAdjustmentTable, StockReservationTable
from app.domain.errors import Conflict, InsufficientStock
from app.domain.model.catalog import Product, StockAdjustment, StockChange, StockLevel
from app.domain.model.inventory import StockReservation
from app.domain.ports import ProductQuery

_SELECT = f"SELECT {', '.join(PRODUCT_COLUMNS)} FROM products"
SELECT_PRODUCT = _SELECT + " WHERE id = $1 AND merchant_id = $2"
SELECT_BY_SKUS = _SELECT + " WHERE merchant_id = $1 AND sku = ANY($2::text[]) ORDER BY sku"
CHANGE_STOCK = """
UPDATE products SET on_hand = on_hand + $2, reserved = reserved + $3, allocated = allocated + $4
WHERE id = $1 RETURNING on_hand, reserved, allocated
"""
# Catalog fields only: the stock columns are never written from a read copy.
SAVE_PRODUCT = """
UPDATE products SET name = $2, unit_amount_minor = $3, currency = $4, lead_time_days = $5, active = $6,
    updated_at = $7 WHERE id = $1
"""
ACTIVE_RESERVATIONS = """
SELECT * FROM stock_reservations WHERE order_id = $1 AND status IN ('RESERVED', 'ALLOCATED') ORDER BY sku
"""
EXPIRED_RESERVATIONS = """
SELECT DISTINCT merchant_id, order_id FROM stock_reservations
WHERE status = 'RESERVED' AND expires_at <= $1 LIMIT $2
"""


def _connection():  # the unit of work's connection
    return hot_path.connection(ProductTable._meta.db)


class PiccoloProductRepository(_Tracking):
    async def add(self, product: Product) -> bool:
        inserted = await ProductTable.insert(ProductTable(**product_to_row(product))).on_conflict(
            action="DO NOTHING").returning(ProductTable.id).run()
        if inserted:
            self._track(product, wrote=True)
        return bool(inserted)

    async def get(self, merchant_id: uuid.UUID, product_id: uuid.UUID, *, lock: bool = False) -> Product | None:
        row = await _connection().fetchrow(SELECT_PRODUCT + (" FOR UPDATE" if lock else ""), product_id, merchant_id)
        return self._track(product_from_row(row)) if row else None

    async def by_skus(self, merchant_id: uuid.UUID, skus: list[str], *, lock: bool = False) -> dict[str, Product]:
        rows = await _connection().fetch(SELECT_BY_SKUS + (" FOR UPDATE" if lock else ""), merchant_id, skus)
        return {row["sku"]: product_from_row(row) for row in rows}

    async def save(self, product: Product) -> None:
        await _connection().execute(SAVE_PRODUCT, product.id, product.name, product.unit_price.amount_minor,
                                    product.unit_price.currency, product.lead_time_days, product.active,
                                    product.updated_at)
        self._track(product, wrote=True)

    async def list(self, query: ProductQuery) -> list[Product]:
        where: Combinable = ProductTable.merchant_id == query.merchant_id
        if query.active is not None:
            where &= ProductTable.active == query.active
        if query.cursor is not None:
            at, last_id = query.cursor
            where &= (ProductTable.created_at < at) | ((ProductTable.created_at == at) & (ProductTable.id < last_id))
        rows = await (ProductTable.select().where(where).order_by(ProductTable.created_at, ProductTable.id,
                                                                   ascending=False)
                      .limit(query.limit + 1).run())
        return [product_from_row(row) for row in rows]

    async def change_stock(self, product_id: uuid.UUID, change: StockChange) -> StockLevel:
        self.touched.wrote = True
        try:
            row = await _connection().fetchrow(CHANGE_STOCK, product_id, change.on_hand, change.reserved,
                                               change.allocated)
        except CheckViolationError as exc:  # the database's last word on overselling
            raise InsufficientStock("not enough stock for this change", constraint=exc.constraint_name) from None
        return stock_from_row(row)

    async def add_adjustment(self, adjustment: StockAdjustment) -> None:
        await StockAdjustmentTable.insert(StockAdjustmentTable(**adjustment_to_row(adjustment))).run()
        self.touched.wrote = True

    # builtins.list: a bare `list` here would be this class's list() method
    async def adjustments(self, product_id: uuid.UUID, limit: int) -> builtins.list[StockAdjustment]:
        rows = await (StockAdjustmentTable.select().where(StockAdjustmentTable.product_id == product_id)
                      .order_by(StockAdjustmentTable.created_at, ascending=False).limit(limit).run())
        return [adjustment_from_row(row) for row in rows]


class PiccoloReservationRepository:
    def __init__(self, touched: Touched) -> None:
        self.touched = touched

    async def add(self, reservation: StockReservation) -> None:
        try:
            await StockReservationTable.insert(StockReservationTable(**reservation_to_row(reservation))).run()
        except UniqueViolationError as exc:
            raise Conflict("this order already holds stock of this product", code="stock_already_held",
                           constraint=exc.constraint_name) from None
        self.touched.wrote = True

    async def active_for_order(self, order_id: uuid.UUID, *, lock: bool = False) -> list[StockReservation]:
        rows = await _connection().fetch(ACTIVE_RESERVATIONS + (" FOR UPDATE" if lock else ""), order_id)
        return [reservation_from_row(row) for row in rows]

    async def save(self, reservation: StockReservation) -> None:
        row = cast("dict[Column | str, Any]", reservation_to_row(reservation))  # Piccolo takes names too
        await StockReservationTable.update(row).where(StockReservationTable.id == reservation.id).run()
        self.touched.wrote = True

    async def expired(self, now: datetime, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
        rows = await _connection().fetch(EXPIRED_RESERVATIONS, now, limit)
        return [(row["merchant_id"], row["order_id"]) for row in rows]

"""Product and stock-adjustment request/response schemas (msgspec)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from app.domain.model.catalog import MAX_LEAD_TIME_DAYS, MAX_STOCK, Product as ProductModel, StockAdjustment
from app.domain.services.catalog import NewProduct, ProductChanges
from app.entrypoints.http.schemas.orders import NO_NUL, Amount, Currency, ShortText
from app.entrypoints.http.schemas import patterns

Sku = Annotated[str, Meta(min_length=1, max_length=64, pattern=patterns.whole(r"[A-Za-z0-9][A-Za-z0-9._\-]*"),
                          description="unique per merchant: letters, digits, '.', '_', '-'")]
LeadTime = Annotated[int, Meta(gt=-1, le=MAX_LEAD_TIME_DAYS, description="days to have it ready to ship")]


class ProductCreate(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    name: ShortText
    unit_amount: Amount
    currency: Currency
    lead_time_days: LeadTime = 0
    stock: Annotated[int, Meta(gt=-1, le=MAX_STOCK, description="initial stock on hand")] = 0

    def to_domain(self) -> NewProduct:
        return NewProduct(self.sku, self.name, self.unit_amount, self.currency.value, self.lead_time_days,
                          self.stock)


class ProductUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Catalog fields; stock changes only through stock adjustments, the active flag
    through /activate and /deactivate (no boolean in a body: the lax decoder reads 0 as false)."""

    name: ShortText | None = None
    unit_amount: Amount | None = None
    currency: Currency | None = None
    lead_time_days: LeadTime | None = None

    def to_domain(self) -> ProductChanges:
        return ProductChanges(self.name, self.unit_amount, self.currency.value if self.currency else None,
                              self.lead_time_days)


class StockAdjustmentCreate(msgspec.Struct, forbid_unknown_fields=True):
    delta: Annotated[int, Meta(ge=-MAX_STOCK, le=MAX_STOCK, description="units added (+) or removed (-)")]
    reason: Annotated[str, Meta(min_length=1, max_length=500, pattern=NO_NUL)]


class Stock(msgspec.Struct):
    on_hand: int
    reserved: int
    allocated: int
    available: int


class Product(msgspec.Struct):
    id: uuid.UUID
    sku: str
    name: str
    unit_amount: int
    currency: str
    lead_time_days: int
    active: bool
    stock: Stock
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_domain(cls, product: ProductModel) -> Product:
        level = product.stock
        return cls(product.id, product.sku, product.name, product.unit_price.amount_minor,
                   product.unit_price.currency, product.lead_time_days, product.active,
                   Stock(level.on_hand, level.reserved, level.allocated, level.available),
                   product.created_at, product.updated_at)


class ProductPage(msgspec.Struct):
    data: list[Product]
    has_more: bool
    next_cursor: str | None


class Adjustment(msgspec.Struct):
    id: uuid.UUID
    delta: int
    reason: str
    on_hand_after: int
    created_at: datetime

    @classmethod
    def from_domain(cls, adjustment: StockAdjustment) -> Adjustment:
        return cls(adjustment.id, adjustment.delta, adjustment.reason, adjustment.on_hand_after,
                   adjustment.created_at)


class AdjustmentResult(msgspec.Struct):
    adjustment: Adjustment
    product: Product


class AdjustmentList(msgspec.Struct):
    data: list[Adjustment]

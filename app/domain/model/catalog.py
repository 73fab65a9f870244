"""The catalog: a merchant's products, their stock level, and the recorded adjustments
that are the only way stock on hand changes (SPEC section 3, seed 003)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.errors import InsufficientStock, ValidationFailed
from app.domain.events import DomainEvent, EventRecorder
from app.domain.model.money import Money

MAX_LEAD_TIME_DAYS = 365
MAX_STOCK = 1_000_000_000


@dataclass(frozen=True, slots=True)
class StockLevel:
    """Units on hand, promised to payments in flight (reserved) and to paid orders
    (allocated). Invariant, held by the database: 0 <= reserved + allocated <= on_hand."""

    on_hand: int = 0
    reserved: int = 0
    allocated: int = 0

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved - self.allocated

    def changed(self, change: StockChange) -> StockLevel:
        return StockLevel(self.on_hand + change.on_hand, self.reserved + change.reserved,
                          self.allocated + change.allocated)

    @property
    def holds(self) -> bool:
        return self.reserved >= 0 and self.allocated >= 0 and self.reserved + self.allocated <= self.on_hand


@dataclass(frozen=True, slots=True)
class StockChange:
    """Deltas applied atomically to a stock row (`SET reserved = reserved + ...`)."""

    on_hand: int = 0
    reserved: int = 0
    allocated: int = 0


@dataclass(frozen=True, slots=True)
class StockAdjustment:
    """One recorded change of stock on hand (append-only)."""

    id: uuid.UUID
    product_id: uuid.UUID
    merchant_id: uuid.UUID
    delta: int
    reason: str
    on_hand_after: int
    created_at: datetime


def _check_lead_time(days: int) -> None:
    if not 0 <= days <= MAX_LEAD_TIME_DAYS:
        raise ValidationFailed(f"lead time must be 0..{MAX_LEAD_TIME_DAYS} days", field="lead_time_days",
                               code="invalid_lead_time")


@dataclass(eq=False, slots=True)
class Product(EventRecorder):
    id: uuid.UUID
    merchant_id: uuid.UUID
    sku: str
    name: str
    unit_price: Money
    lead_time_days: int
    active: bool
    stock: StockLevel
    created_at: datetime
    updated_at: datetime
    events: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def create(cls, merchant_id: uuid.UUID, sku: str, name: str, unit_price: Money, lead_time_days: int,
               now: datetime, active: bool = True) -> Product:
        _check_lead_time(lead_time_days)
        product = cls(uuid.uuid4(), merchant_id, sku, name, unit_price, lead_time_days, active, StockLevel(),
                      now, now)
        product._event("product.created", now)
        return product

    def _event(self, type_: str, now: datetime, **payload: object) -> None:
        self.record(type_, self.id, self.merchant_id, now, product_id=str(self.id), sku=self.sku,
                    active=self.active, **payload)

    def update(self, now: datetime, name: str | None = None, unit_price: Money | None = None,
               lead_time_days: int | None = None, active: bool | None = None) -> None:
        """Catalog fields only: stock moves through adjust_stock and reservations."""
        if lead_time_days is not None:
            _check_lead_time(lead_time_days)
        self.name = self.name if name is None else name
        self.unit_price = unit_price or self.unit_price
        self.lead_time_days = self.lead_time_days if lead_time_days is None else lead_time_days
        self.active = self.active if active is None else active
        self.updated_at = now
        self._event("product.updated", now, unit_amount=self.unit_price.amount_minor,
                    currency=self.unit_price.currency)

    def adjust_stock(self, delta: int, reason: str, now: datetime) -> tuple[StockAdjustment, StockChange]:
        """Record a change of stock on hand. Below zero is bad input; below what is
        reserved or allocated is InsufficientStock (the database refuses it too)."""
        if delta == 0 or abs(delta) > MAX_STOCK:
            raise ValidationFailed(f"delta must be a non-zero integer within +-{MAX_STOCK}", field="delta",
                                   code="invalid_stock_delta")
        if not reason.strip():
            raise ValidationFailed("an adjustment needs a reason", field="reason", code="reason_required")
        after = self.stock.on_hand + delta
        if after < 0:
            raise ValidationFailed(f"stock on hand would be {after}; it cannot go below zero", field="delta",
                                   code="stock_below_zero")
        if after > MAX_STOCK:
            raise ValidationFailed(f"stock on hand must stay within {MAX_STOCK}", field="delta",
                                   code="stock_too_large")
        change = StockChange(on_hand=delta)
        if not self.stock.changed(change).holds:
            raise InsufficientStock(
                f"{self.sku}: {self.stock.reserved + self.stock.allocated} units are reserved or allocated",
                skus=[self.sku])
        self.stock, self.updated_at = self.stock.changed(change), now
        adjustment = StockAdjustment(uuid.uuid4(), self.id, self.merchant_id, delta, reason.strip(),
                                     self.stock.on_hand, now)
        self._event("product.stock_adjusted", now, delta=delta, reason=adjustment.reason,
                    on_hand=self.stock.on_hand)
        return adjustment, change

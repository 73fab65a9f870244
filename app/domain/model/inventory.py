"""Stock reservations: what one order holds of one product, from payment start
(RESERVED) to payment success (ALLOCATED), or back to the shelf (RELEASED, RETURNED).
Lines of an order on the same sku are one demand: they count together."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.domain.errors import InvalidStateTransition
from app.domain.model.catalog import StockChange
from app.domain.model.order import LineItem


class ReservationStatus(StrEnum):
    RESERVED = "RESERVED"  # held for a payment in flight; expires
    ALLOCATED = "ALLOCATED"  # the order is paid: the units are its
    RELEASED = "RELEASED"  # payment failed, order cancelled or reservation expired
    RETURNED = "RETURNED"  # an allocated order was cancelled: the units went back


ACTIVE = frozenset({ReservationStatus.RESERVED, ReservationStatus.ALLOCATED})


def demand(items: list[LineItem]) -> dict[str, int]:
    """Units wanted per sku, lines on the same sku summed (free items have no sku)."""
    wanted: dict[str, int] = {}
    for item in items:
        if item.sku is not None:
            wanted[item.sku] = wanted.get(item.sku, 0) + item.quantity
    return wanted


@dataclass(eq=False, slots=True)
class StockReservation:
    id: uuid.UUID
    order_id: uuid.UUID
    merchant_id: uuid.UUID
    product_id: uuid.UUID
    sku: str
    quantity: int
    status: ReservationStatus
    payment_id: uuid.UUID | None
    expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def hold(cls, order_id: uuid.UUID, merchant_id: uuid.UUID, product_id: uuid.UUID, sku: str, quantity: int,
             payment_id: uuid.UUID | None, now: datetime, expires_at: datetime | None,
             status: ReservationStatus = ReservationStatus.RESERVED) -> StockReservation:
        return cls(uuid.uuid4(), order_id, merchant_id, product_id, sku, quantity, status, payment_id,
                   expires_at, now, now)

    def allocate(self, now: datetime) -> StockChange:
        return self._move(ReservationStatus.ALLOCATED, now, StockChange(reserved=-self.quantity,
                                                                        allocated=self.quantity))

    def release(self, now: datetime) -> StockChange:
        """Back to the shelf: a reservation is released, an allocation returned."""
        if self.status is ReservationStatus.ALLOCATED:
            return self._move(ReservationStatus.RETURNED, now, StockChange(allocated=-self.quantity))
        return self._move(ReservationStatus.RELEASED, now, StockChange(reserved=-self.quantity))

    def _move(self, target: ReservationStatus, now: datetime, change: StockChange) -> StockChange:
        if self.status not in ACTIVE or (target is ReservationStatus.ALLOCATED
                                         and self.status is not ReservationStatus.RESERVED):
            raise InvalidStateTransition(f"reservation {self.id} is {self.status}, cannot become {target}",
                                         current_state=str(self.status))
        self.status, self.updated_at, self.expires_at = target, now, None
        return change

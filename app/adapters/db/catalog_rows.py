"""Row <-> model conversion for products, stock adjustments and reservations."""

from __future__ import annotations

from typing import Any

from app.domain.model.catalog import Product, StockAdjustment, StockLevel
from app.domain.model.inventory import ReservationStatus, StockReservation
from app.domain.model.money import Money

PRODUCT_COLUMNS = ("id", "merchant_id", "sku", "name", "unit_amount_minor", "currency", "lead_time_days", "active",
                   "on_hand", "reserved", "allocated", "created_at", "updated_at")
ADJUSTMENT_FIELDS = ("id", "product_id", "merchant_id", "delta", "reason", "on_hand_after", "created_at")
RESERVATION_FIELDS = ("id", "order_id", "merchant_id", "product_id", "sku", "quantity", "payment_id", "expires_at",
                      "created_at", "updated_at")


def product_to_row(product: Product) -> dict[str, Any]:
    return {
        "id": product.id, "merchant_id": product.merchant_id, "sku": product.sku, "name": product.name,
        "unit_amount_minor": product.unit_price.amount_minor, "currency": product.unit_price.currency,
        "lead_time_days": product.lead_time_days, "active": product.active, "on_hand": product.stock.on_hand,
        "reserved": product.stock.reserved, "allocated": product.stock.allocated,
        "created_at": product.created_at, "updated_at": product.updated_at,
    }


def stock_from_row(row: Any) -> StockLevel:
    return StockLevel(row["on_hand"], row["reserved"], row["allocated"])


def product_from_row(row: Any) -> Product:
    return Product(
        id=row["id"], merchant_id=row["merchant_id"], sku=row["sku"], name=row["name"],
        unit_price=Money(row["unit_amount_minor"], row["currency"]), lead_time_days=row["lead_time_days"],
        active=row["active"], stock=stock_from_row(row), created_at=row["created_at"], updated_at=row["updated_at"],
    )


def adjustment_to_row(adjustment: StockAdjustment) -> dict[str, Any]:
    return {name: getattr(adjustment, name) for name in ADJUSTMENT_FIELDS}


def adjustment_from_row(row: Any) -> StockAdjustment:
    return StockAdjustment(**{name: row[name] for name in ADJUSTMENT_FIELDS})


def reservation_to_row(reservation: StockReservation) -> dict[str, Any]:
    row = {name: getattr(reservation, name) for name in RESERVATION_FIELDS}
    row["status"] = reservation.status.value
    return row


def reservation_from_row(row: Any) -> StockReservation:
    return StockReservation(status=ReservationStatus(row["status"]),
                            **{name: row[name] for name in RESERVATION_FIELDS})

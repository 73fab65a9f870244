"""Stock moves for orders, inside the caller's unit of work: reserve when a payment
starts, allocate when it succeeds, release when it fails, expires or the order is
cancelled. Stock rows are locked in sku order (orders first, then reservations, then
products: the one lock order of every stock-moving transaction, so none deadlock), the
code checks what is free, and the database's CHECK (reserved + allocated <= on_hand)
refuses whatever would slip past the code: overselling is impossible by construction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.errors import Conflict, InsufficientStock
from app.domain.model.catalog import Product, StockChange
from app.domain.model.inventory import ReservationStatus, StockReservation, demand
from app.domain.model.order import Order
from app.domain.ports import UnitOfWork

RESERVED, ALLOCATED = ReservationStatus.RESERVED, ReservationStatus.ALLOCATED


@dataclass(frozen=True, slots=True)
class InventoryPolicy:
    reservation_ttl_s: float = 900.0  # a payment not settled by then gives its stock back
    max_units_per_sku: int = 1000  # per order, lines on one sku summed
    shipping_business_days: int = 3
    expiry_batch: int = 100


class StockKeeper:
    def __init__(self, policy: InventoryPolicy) -> None:
        self.policy = policy

    async def reserve(self, uow: UnitOfWork, order: Order, payment_id: uuid.UUID, now: datetime) -> None:
        """Hold the order's catalog units for a payment; InsufficientStock (nothing
        written) when any sku lacks free units."""
        wanted = demand(order.items)
        if not wanted:
            return
        products = await uow.products.by_skus(order.merchant_id, sorted(wanted), lock=True)
        gone = [sku for sku in sorted(wanted) if sku not in products or not products[sku].active]
        if gone:
            raise Conflict(f"no longer sold: {', '.join(gone)}", code="sku_unavailable", skus=gone)
        short = [sku for sku in sorted(wanted) if products[sku].stock.available < wanted[sku]]
        if short:
            raise InsufficientStock(f"not enough stock for {', '.join(short)}", skus=short)
        expires_at = now + timedelta(seconds=self.policy.reservation_ttl_s)
        for sku in sorted(wanted):
            product = products[sku]
            await uow.products.change_stock(product.id, StockChange(reserved=wanted[sku]))
            await uow.reservations.add(StockReservation.hold(order.id, order.merchant_id, product.id, sku,
                                                             wanted[sku], payment_id, now, expires_at))

    async def allocate(self, uow: UnitOfWork, order: Order, payment_id: uuid.UUID,
                       now: datetime) -> tuple[list[str], dict[str, Product]]:
        """All or nothing: reservations become allocations; a sku whose reservation is
        gone (expired) is allocated afresh from free stock. Returns the skus that could
        not be covered (then nothing is allocated and what was held is released) and
        the products."""
        wanted = demand(order.items)
        held = {r.sku: r for r in await uow.reservations.active_for_order(order.id, lock=True)}
        products = await uow.products.by_skus(order.merchant_id, sorted(wanted), lock=True)
        short = [sku for sku in sorted(wanted) if not _coverable(wanted[sku], held.get(sku), products.get(sku))]
        if short:
            await self._release(uow, list(held.values()), now)
            return short, products
        for sku in sorted(wanted):
            reservation = held.get(sku)
            if reservation is not None and reservation.status is ALLOCATED:
                continue
            if reservation is not None and reservation.status is RESERVED and reservation.quantity == wanted[sku]:
                change = reservation.allocate(now)
                await uow.reservations.save(reservation)
            else:
                if reservation is not None:  # held for another quantity: give it back first
                    await self._release(uow, [reservation], now)
                change = StockChange(allocated=wanted[sku])
                await uow.reservations.add(StockReservation.hold(
                    order.id, order.merchant_id, products[sku].id, sku, wanted[sku], payment_id, now, None,
                    ALLOCATED))
            await uow.products.change_stock(products[sku].id, change)
        return [], products

    async def release_for_payment(self, uow: UnitOfWork, order: Order, payment_id: uuid.UUID,
                                  now: datetime) -> int:
        """The payment failed: what was reserved for it goes back."""
        return await self._release_where(uow, order, now,
                                         lambda r: r.status is RESERVED and r.payment_id == payment_id)

    async def release_expired(self, uow: UnitOfWork, order: Order, now: datetime) -> int:
        return await self._release_where(
            uow, order, now, lambda r: r.status is RESERVED and r.expires_at is not None and r.expires_at <= now)

    async def release_all(self, uow: UnitOfWork, order: Order, now: datetime) -> int:
        """The order is cancelled: reserved and allocated units alike go back."""
        return await self._release_where(uow, order, now, lambda r: True)

    async def _release_where(self, uow: UnitOfWork, order: Order, now: datetime,
                             which: Callable[[StockReservation], bool]) -> int:
        if not demand(order.items):
            return 0  # free items only: nothing was ever reserved, spare the query
        chosen = [r for r in await uow.reservations.active_for_order(order.id, lock=True) if which(r)]
        await self._release(uow, chosen, now)
        return len(chosen)

    async def _release(self, uow: UnitOfWork, reservations: list[StockReservation], now: datetime) -> None:
        for reservation in sorted(reservations, key=lambda r: r.sku):
            change = reservation.release(now)
            await uow.reservations.save(reservation)
            await uow.products.change_stock(reservation.product_id, change)


def _coverable(wanted: int, held: StockReservation | None, product: Product | None) -> bool:
    if held is not None and held.quantity == wanted:
        return True  # already reserved (or allocated) for this order
    returned = held.quantity if held is not None and held.status is RESERVED else 0
    return product is not None and product.stock.available + returned >= wanted

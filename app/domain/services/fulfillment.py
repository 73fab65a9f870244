"""After a payment succeeds: allocate the order's stock and start fulfillment, or, when
the stock is no longer there (its reservation expired and others took it), cancel the
order, refund the payment and tell the merchant why. And the reconciler's part: give
back reservations whose payment did not settle in time."""

from __future__ import annotations

import uuid
from enum import StrEnum

from app.domain.model.audit import AuditType
from app.domain.model.delivery import estimate_delivery
from app.domain.model.inventory import demand
from app.domain.model.order import OrderStatus
from app.domain.ports import Clock, UnitOfWorkFactory, WriteSkipped
from app.domain.services.inventory import StockKeeper
from app.domain.services.orders import cancel_order, load_order

CONSUMER = "allocate_stock"  # processed_events key: one allocation per payment.succeeded event
OUT_OF_STOCK = "insufficient_stock"


class Allocation(StrEnum):
    FULFILLMENT_STARTED = "fulfillment_started"
    REFUNDED = "refunded"  # no stock left: cancelled and refunded
    NOT_APPLICABLE = "not_applicable"  # no catalog items, or the order moved on meanwhile
    DUPLICATE = "duplicate"  # this event was handled before


class FulfillmentService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, stock: StockKeeper) -> None:
        self._uow, self._clock, self._stock = uow, clock, stock

    async def allocate(self, event_id: uuid.UUID, merchant_id: uuid.UUID, order_id: uuid.UUID,
                       payment_id: uuid.UUID) -> Allocation:
        """Handle `payment.succeeded`. One transaction: the event is claimed in it, so a
        redelivered message finds the claim and allocates nothing twice."""
        async with self._uow.reading() as reading:  # one statement, no transaction
            paid = await load_order(reading, merchant_id, order_id)
        if not demand(paid.items):  # (the items cannot change once a payment started)
            return await self._nothing_to_allocate(event_id, merchant_id, order_id, payment_id)
        async with self._uow() as uow:
            if not await uow.processed.claim(CONSUMER, event_id):
                return Allocation.DUPLICATE
            audit = uow.audit.record(AuditType.ORDER_FULFILLMENT, action="allocate", merchant=merchant_id,
                                     order=order_id, payment=payment_id, event=event_id)
            order = await load_order(uow, merchant_id, order_id, lock=True)
            if order.status is not OrderStatus.PAYMENT_DONE or not demand(order.items):
                await uow.commit()
                return Allocation.NOT_APPLICABLE
            now = self._clock.now()
            short, products = await self._stock.allocate(uow, order, payment_id, now)
            if short:
                order.record("order.allocation_failed", order.id, merchant_id, now, order_id=str(order.id),
                             payment_id=str(payment_id), reason=OUT_OF_STOCK, skus=short)
                await cancel_order(uow, self._stock, order, now, OUT_OF_STOCK)
                audit.fail(OUT_OF_STOCK, "no stock left for " + ", ".join(short) + ": cancelled and refunded")
                outcome = Allocation.REFUNDED
            else:
                lead_times = [product.lead_time_days for product in products.values()]
                order.start_fulfillment(now, estimate_delivery(now.date(), lead_times,
                                                               self._stock.policy.shipping_business_days))
                await uow.orders.save(order)
                outcome = Allocation.FULFILLMENT_STARTED
            await uow.commit()
        return outcome

    async def _nothing_to_allocate(self, event_id: uuid.UUID, merchant_id: uuid.UUID, order_id: uuid.UUID,
                                   payment_id: uuid.UUID) -> Allocation:
        """An order without catalog items (most of them): only the claim and the record
        of the operation are written, in one statement (the claim is its condition), instead
        of a transaction around them that also locks the order."""
        async with self._uow.single_statement() as uow:
            uow.audit.record(AuditType.ORDER_FULFILLMENT, action="allocate", merchant=merchant_id,
                             order=order_id, payment=payment_id, event=event_id)
            await uow.processed.claim_at_commit(CONSUMER, event_id)
            try:
                await uow.commit()
            except WriteSkipped:  # claimed before: a redelivery, nothing written
                return Allocation.DUPLICATE
        return Allocation.NOT_APPLICABLE

    async def release_expired(self) -> int:
        """Reservations past their expiry go back to the shelf (their payment may still
        succeed: then allocation takes free stock again, or refunds)."""
        now = self._clock.now()
        async with self._uow() as uow:
            expired = await uow.reservations.expired(now, self._stock.policy.expiry_batch)
        released = 0
        for merchant_id, order_id in expired:
            async with self._uow() as uow:
                order = await load_order(uow, merchant_id, order_id, lock=True)  # the lock order: order first
                released += await self._stock.release_expired(uow, order, now)
                await uow.commit()
        return released

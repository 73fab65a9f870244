"""Order use cases: create, read, list, modify, cancel."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.domain.errors import Conflict, DuplicateOrder, NotFound
from app.domain.model.money import Money
from app.domain.model.order import Customer, LineItem, Order
from app.domain.model.payment import AttemptStatus, PaymentAttempt, Refund
from app.domain.ports import Clock, OrderQuery, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class NewOrder:
    amount_minor: int
    currency: str
    items: list[LineItem]
    customer: Customer
    merchant_reference: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class OrderChanges:
    amount_minor: int | None = None
    currency: str | None = None
    items: list[LineItem] | None = None
    customer: Customer | None = None
    description: str | None = None


@dataclass(slots=True)
class OrderView:
    """An order with its payment attempts and refunds, as the API shows it."""

    order: Order
    attempts: list[PaymentAttempt]
    refunds: list[Refund]


async def load_order(uow: UnitOfWork, merchant_id: uuid.UUID, order_id: uuid.UUID, lock: bool = False) -> Order:
    order = await uow.orders.get(merchant_id, order_id, lock=lock)
    if order is None:
        raise NotFound(f"order {order_id} not found", resource="order", id=str(order_id))
    return order


class OrderService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, max_amount_minor: int) -> None:
        self._uow = uow
        self._clock = clock
        self._max_amount = max_amount_minor

    async def create(self, merchant_id: uuid.UUID, new: NewOrder) -> Order:
        amount = Money.of(new.amount_minor, new.currency, self._max_amount)
        order = Order.create(merchant_id, amount, new.items, new.customer, self._clock.now(),
                             new.merchant_reference, new.description)
        async with self._uow() as uow:
            if not await uow.orders.add(order):
                existing = await uow.orders.get_by_reference(merchant_id, new.merchant_reference or "")
                raise DuplicateOrder(
                    f"an order with merchant_reference {new.merchant_reference!r} already exists",
                    existing_order_id=str(existing.id) if existing else None,
                )
            await uow.commit()
        return order

    async def get(self, merchant_id: uuid.UUID, order_id: uuid.UUID) -> OrderView:
        async with self._uow() as uow:
            order = await load_order(uow, merchant_id, order_id)
            return OrderView(order, await uow.payments.for_order(order_id), await uow.refunds.for_order(order_id))

    async def list(self, query: OrderQuery) -> tuple[list[Order], bool]:
        """A page of orders and whether another page follows."""
        async with self._uow() as uow:
            rows = await uow.orders.list(query)
        return rows[: query.limit], len(rows) > query.limit

    async def modify(self, merchant_id: uuid.UUID, order_id: uuid.UUID, changes: OrderChanges) -> Order:
        async with self._uow() as uow:
            order = await load_order(uow, merchant_id, order_id, lock=True)
            amount = None
            if changes.amount_minor is not None or changes.currency is not None:
                amount = Money.of(
                    changes.amount_minor if changes.amount_minor is not None else order.amount.amount_minor,
                    changes.currency or order.amount.currency,
                    self._max_amount,
                )
            order.modify(self._clock.now(), amount, changes.items, changes.customer, changes.description)
            await uow.orders.save(order)
            await uow.commit()
        return order

    async def cancel(self, merchant_id: uuid.UUID, order_id: uuid.UUID, reason: str | None = None) -> OrderView:
        """Cancel; a paid order is refunded (the refund is requested from the provider
        by the handler of the `refund.requested` event, after commit)."""
        async with self._uow() as uow:
            order = await load_order(uow, merchant_id, order_id, lock=True)
            now = self._clock.now()
            needs_refund = order.cancel(now, reason)
            await uow.orders.save(order)
            attempts = await uow.payments.for_order(order_id)
            refunds = await uow.refunds.for_order(order_id)
            if needs_refund:
                paid = next((a for a in attempts if a.status is AttemptStatus.SUCCESS), None)
                if paid is None:  # the database's one-success index makes this impossible
                    raise Conflict(f"order {order_id} is paid but has no successful payment", code="inconsistent_order")
                refund = Refund.request(paid, now)
                await uow.refunds.add(refund)
                refunds.append(refund)
            await uow.commit()
        return OrderView(order, attempts, refunds)

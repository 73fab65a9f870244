"""Order use cases: create, read, list, modify, cancel."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from datetime import datetime

from app.domain.errors import Conflict, NotFound, ValidationFailed
from app.domain.model.audit import AuditType
from app.domain.model.money import Money, currency_code
from app.domain.model.order import Customer, LineItem, Order, duplicate_order
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.domain.model.refund import Refund
from app.domain.model.pricing import RequestedItem, price_items, skus_of
from app.domain.ports import Clock, OrderQuery, UnitOfWork, UnitOfWorkFactory
from app.domain.services.inventory import InventoryPolicy, StockKeeper

Items = list[LineItem | RequestedItem]


@dataclass(frozen=True, slots=True)
class NewOrder:
    amount_minor: int | None  # None: the items' total
    currency: str
    items: Items
    customer: Customer
    merchant_reference: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class OrderChanges:
    amount_minor: int | None = None
    currency: str | None = None
    items: Items | None = None
    customer: Customer | None = None
    description: str | None = None


@dataclass(slots=True)
class OrderView:
    """An order with its payment attempts and refunds, as the API shows it."""

    order: Order
    attempts: list[PaymentAttempt]
    refunds: list[Refund]


async def load_order(uow: UnitOfWork, merchant_id: uuid.UUID, order_id: uuid.UUID, lock: bool = False,
                     customer_id: uuid.UUID | None = None) -> Order:
    """The merchant's order; another customer's order is as absent as another merchant's."""
    order = await uow.orders.get(merchant_id, order_id, lock=lock)
    if order is None or not order.visible_to(customer_id):
        raise NotFound(f"order {order_id} not found", resource="order", id=str(order_id))
    return order


async def cancel_order(uow: UnitOfWork, stock: StockKeeper, order: Order, now: datetime,
                       reason: str | None) -> tuple[list[PaymentAttempt], list[Refund]]:
    """Cancel a locked order in the caller's transaction: its stock goes back and a paid
    one is refunded (the provider is asked by the `refund.requested` handler, after commit)."""
    needs_refund = order.cancel(now, reason)
    await uow.orders.save(order)
    await stock.release_all(uow, order, now)
    attempts = await uow.payments.for_order(order.id)
    refunds = await uow.refunds.for_order(order.id)
    if needs_refund:
        paid = next((a for a in attempts if a.status is AttemptStatus.SUCCESS), None)
        if paid is None:  # the database's one-success index makes this impossible
            raise Conflict(f"order {order.id} is paid but has no successful payment", code="inconsistent_order")
        refund = Refund.request(paid, now)
        await uow.refunds.add(refund)
        refunds.append(refund)
    return attempts, refunds


def _amount(amount_minor: int | None, currency: str, items: list[LineItem], max_amount: int) -> Money:
    if amount_minor is None:
        if not items:
            raise ValidationFailed("give an amount, or items to add up", field="amount", code="amount_required")
        amount_minor = sum(item.total_minor for item in items)
    return Money.of(amount_minor, currency, max_amount)


class OrderService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, max_amount_minor: int,
                 stock: StockKeeper | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._max_amount = max_amount_minor
        self._stock = stock or StockKeeper(InventoryPolicy())

    async def _priced(self, uow: UnitOfWork, merchant_id: uuid.UUID, requested: Items,
                      currency: str) -> list[LineItem]:
        """Catalog lines validated and priced; free lines as sent."""
        skus = skus_of(requested)
        catalog = await uow.products.by_skus(merchant_id, skus) if skus else {}
        return price_items(requested, catalog, currency_code(currency), self._stock.policy.max_units_per_sku)

    async def create(self, merchant_id: uuid.UUID, new: NewOrder, user_id: uuid.UUID | None = None) -> Order:
        """A new order; `user_id`: the customer placing it, who alone (besides the merchant) sees it."""
        # Its only write is the insert: one statement at the commit, with no transaction
        # around the catalog read (under the idempotency middleware, with the key's claim).
        async with self._uow.single_statement() as uow:
            audit = uow.audit.record(AuditType.ORDER_CREATION, merchant=merchant_id, user=user_id)
            items = await self._priced(uow, merchant_id, new.items, new.currency)
            amount = _amount(new.amount_minor, new.currency, items, self._max_amount)
            order = Order.create(merchant_id, amount, items, new.customer, self._clock.now(),
                                 new.merchant_reference, new.description, user_id=user_id)
            audit.add(order=order.id)
            if not await uow.orders.add(order):  # (a single-statement unit's commit raises it instead)
                existing = await uow.orders.get_by_reference(merchant_id, new.merchant_reference or "")
                raise duplicate_order(new.merchant_reference, existing)
            await uow.commit()
        return order

    async def get(self, merchant_id: uuid.UUID, order_id: uuid.UUID,
                  customer_id: uuid.UUID | None = None) -> OrderView:
        async with self._uow.reading() as uow:  # one statement: no transaction needed around it
            uow.audit.record(AuditType.DATA_LOOKUP, action="order", merchant=merchant_id, order=order_id)
            found = await uow.orders.view(merchant_id, order_id)  # one read: order, attempts, refunds agree
            if found is None or not found[0].visible_to(customer_id):
                raise NotFound(f"order {order_id} not found", resource="order", id=str(order_id))
            return OrderView(*found)

    async def list(self, query: OrderQuery) -> tuple[list[Order], bool]:
        """A page of orders and whether another page follows."""
        async with self._uow() as uow:
            uow.audit.record(AuditType.DATA_LOOKUP, action="orders", merchant=query.merchant_id, user=query.user_id)
            rows = await uow.orders.list(query)
        return rows[: query.limit], len(rows) > query.limit

    async def modify(self, merchant_id: uuid.UUID, order_id: uuid.UUID, changes: OrderChanges) -> Order:
        async with self._uow() as uow:
            uow.audit.record(AuditType.ORDER_UPDATE, action="modify", merchant=merchant_id, order=order_id)
            order = await load_order(uow, merchant_id, order_id, lock=True)
            amount, items = None, None
            if changes.items is not None or changes.currency is not None:
                # What is bought or its currency changes: the catalog lines are validated and
                # priced again (kept lines at today's catalog price), the total follows.
                currency = changes.currency or order.amount.currency
                requested: list[LineItem | RequestedItem] = changes.items if changes.items is not None else [
                    RequestedItem(i.quantity, i.sku, i.name, None if i.sku else i.unit_amount_minor)
                    for i in order.items]
                items = await self._priced(uow, merchant_id, requested, currency)
                amount = _amount(changes.amount_minor if changes.amount_minor is not None
                                 else (None if items else order.amount.amount_minor),
                                 currency, items, self._max_amount)
            elif changes.amount_minor is not None:
                amount = Money.of(changes.amount_minor, order.amount.currency, self._max_amount)
            order.modify(self._clock.now(), amount, items, changes.customer, changes.description)
            await uow.orders.save(order)
            await uow.commit()
        return order

    async def cancel(self, merchant_id: uuid.UUID, order_id: uuid.UUID, reason: str | None = None,
                     customer_id: uuid.UUID | None = None) -> OrderView:
        """Cancel; a paid order is refunded (the refund is requested from the provider
        by the handler of the `refund.requested` event, after commit)."""
        async with self._uow() as uow:
            uow.audit.record(AuditType.ORDER_UPDATE, action="cancel", merchant=merchant_id, order=order_id,
                             user=customer_id)
            order = await load_order(uow, merchant_id, order_id, lock=True, customer_id=customer_id)
            attempts, refunds = await cancel_order(uow, self._stock, order, self._clock.now(), reason)
            await uow.commit()
        return OrderView(order, attempts, refunds)

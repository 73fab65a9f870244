"""A shop over the in-memory fakes: catalog, orders, payments, refunds and fulfillment
from the composition root (build_container with fakes), plus the `payment.succeeded` -> allocate
step the event handlers run after commit."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from app.domain.model.card import CardDetails
from app.domain.model.catalog import Product
from app.domain.model.order import Order
from app.domain.model.pricing import RequestedItem
from app.domain.services.catalog import NewProduct
from app.domain.services.fulfillment import Allocation
from app.domain.services.orders import NewOrder
from tests.unit.builders import CUSTOMER
from tests.unit.fake_container import fake_container, unit_settings
from tests.unit.fake_providers import FakeProvider, FakeProviderRegistry
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory

CARD = CardDetails.parse("4242424242424242", 12, 2035, "123", date(2026, 1, 1))
MERCHANT = uuid.UUID("00000000-0000-4000-8000-0000000000aa")


class Shop:
    def __init__(self, **inventory: Any) -> None:
        self.uow = InMemoryUnitOfWorkFactory()
        self.clock = FakeClock()  # Thursday 2026-01-15
        self.provider = FakeProvider()
        container = fake_container(unit_settings(inventory=inventory), uow=self.uow, clock=self.clock,
                                   providers=FakeProviderRegistry(self.provider))
        self.catalog, self.orders, self.payments = container.catalog, container.orders, container.payments
        self.refunds, self.fulfillment = container.refunds, container.fulfillment

    async def product(self, sku: str, stock: int, price: int = 1000, currency: str = "USD",
                      lead_time_days: int = 0) -> Product:
        return await self.catalog.create(MERCHANT, NewProduct(sku, f"Product {sku}", price, currency,
                                                              lead_time_days, stock))

    async def order(self, *lines: tuple[str, int], currency: str = "USD") -> Order:
        items = [RequestedItem(quantity, sku) for sku, quantity in lines]
        return await self.orders.create(MERCHANT, NewOrder(None, currency, items, CUSTOMER))

    async def level(self, sku: str):
        async with self.uow() as uow:
            return (await uow.products.by_skus(MERCHANT, [sku]))[sku].stock

    async def reload(self, order: Order) -> Order:
        async with self.uow() as uow:
            found = await uow.orders.get(MERCHANT, order.id)
        assert found is not None
        return found

    async def reservations(self, order: Order):
        return sorted((r for r in self.uow.db.reservations.values() if r.order_id == order.id),
                      key=lambda r: r.created_at)

    def events(self, type_: str) -> list:
        return [event for event in self.uow.outbox if event.type == type_]

    async def pay(self, order: Order) -> Allocation:
        """Start, dispatch (the provider says success), then the payment.succeeded handler."""
        attempt = await self.payments.request(MERCHANT, order.id, "sandbox", CARD)
        await self.payments.dispatch(attempt.id)
        return await self.allocate_for(attempt.id)

    async def allocate_for(self, payment_id: uuid.UUID) -> Allocation:
        [event] = [e for e in self.events("payment.succeeded") if e.payload["payment_id"] == str(payment_id)]
        return await self.fulfillment.allocate(event.id, event.merchant_id, uuid.UUID(event.payload["order_id"]),
                                               payment_id)

"""A shop over the in-memory fakes: catalog, orders, payments, refunds and fulfillment
wired as the composition root wires them, plus the `payment.succeeded` -> allocate
step the event handlers run after commit."""

from __future__ import annotations

import uuid
from datetime import date

from app.domain.model.card import CardDetails
from app.domain.model.catalog import Product
from app.domain.model.order import Order
from app.domain.model.pricing import RequestedItem
from app.domain.services.catalog import CatalogService, NewProduct
from app.domain.services.fulfillment import Allocation, FulfillmentService
from app.domain.services.inventory import InventoryPolicy, StockKeeper
from app.domain.services.orders import NewOrder, OrderService
from app.domain.services.payments import PaymentPolicy, PaymentService
from app.domain.services.refunds import RefundService
from tests.unit.builders import CUSTOMER
from tests.unit.fake_providers import FakeProvider, FakeProviderRegistry, InMemoryCardDataCache
from tests.unit.fakes import FakeClock, InMemoryLockManager, InMemoryUnitOfWorkFactory

CARD = CardDetails.parse("4242424242424242", 12, 2035, "123", date(2026, 1, 1))
MERCHANT = uuid.UUID("00000000-0000-4000-8000-0000000000aa")


class Shop:
    def __init__(self, **policy: object) -> None:
        self.uow = InMemoryUnitOfWorkFactory()
        self.clock = FakeClock()  # Thursday 2026-01-15
        self.provider = FakeProvider()
        self.stock = StockKeeper(InventoryPolicy(**policy))  # type: ignore[arg-type]
        registry = FakeProviderRegistry(self.provider)
        self.catalog = CatalogService(self.uow, self.clock, 100_000_000)
        self.orders = OrderService(self.uow, self.clock, 100_000_000, self.stock)
        self.payments = PaymentService(self.uow, self.clock, registry, InMemoryLockManager(),
                                       InMemoryCardDataCache(), PaymentPolicy(), self.stock)
        self.refunds = RefundService(self.uow, self.clock, registry)
        self.fulfillment = FulfillmentService(self.uow, self.clock, self.stock)

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

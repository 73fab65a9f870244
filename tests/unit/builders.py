"""Test data: orders driven into a state by their own methods, payment attempts, requests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from app.domain.model.merchant import Merchant
from app.domain.model.money import Money
from app.domain.model.order import Customer, LineItem, Order, OrderStatus
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.domain.services.orders import NewOrder

S = OrderStatus
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
MAX_ATTEMPTS = 3
ITEMS = [LineItem("Mug", 2, 1000), LineItem("Shipping", 1, 500)]  # 2500 in all (free items: no catalog)
CUSTOMER = Customer(email="ada@example.com", name="Ada")

# How an order reaches each state through its own methods, from CREATED.
PATHS = {
    S.CREATED: [],
    S.PAYMENT_IN_PROGRESS: ["start_payment"],
    S.PAYMENT_DONE: ["start_payment", "mark_paid"],
    S.PAYMENT_FAILED: ["start_payment", "mark_payment_failed"],
    S.ORDER_CANCELLED: ["cancel"],
    S.FULFILLMENT_STARTED: ["start_payment", "mark_paid", "start_fulfillment"],
}


def drive(order: Order, method: str, now: datetime = NOW) -> object:
    """Call the order method named `method` with plausible arguments."""
    arguments = {"start_payment": (now, MAX_ATTEMPTS), "start_fulfillment": (now, date(2026, 1, 20))}
    return getattr(order, method)(*arguments.get(method, (now,)))


def new_order(merchant_id: uuid.UUID | None = None, reference: str | None = None, at: datetime = NOW,
              status: OrderStatus = S.CREATED) -> Order:
    """A 25.00 USD order in `status`, with no events left to collect."""
    order = Order.create(merchant_id or uuid.uuid4(), Money.of(2500, "USD"), list(ITEMS), CUSTOMER, at, reference)
    for method in PATHS[status]:
        drive(order, method, at)
    order.pull_events()
    return order


def attempt_for(order: Order, status: AttemptStatus = AttemptStatus.INITIATED, number: int = 1) -> PaymentAttempt:
    return PaymentAttempt(uuid.uuid4(), order.id, order.merchant_id, "sandbox", order.amount, status,
                          order.created_at, order.created_at, attempt_number=number)


def order_request(amount_minor: int = 2500, currency: str = "USD", reference: str | None = None,
                  items: list[LineItem] | None = None) -> NewOrder:
    return NewOrder(amount_minor, currency, list(ITEMS) if items is None else items, CUSTOMER, reference)


def merchant_row(merchant_id: uuid.UUID | None = None) -> Merchant:
    """A stored merchant (its key hash stands for a key nobody holds)."""
    merchant_id = merchant_id or uuid.uuid4()
    return Merchant(merchant_id, "Shop", f"hash-{merchant_id}", NOW)

"""The Order aggregate and its state machine (SPEC section 3)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from app.domain.errors import DuplicateOrder, InvalidStateTransition, RetryLimitReached, ValidationFailed
from app.domain.events import DomainEvent, EventRecorder
from app.domain.ids import new_id
from app.domain.model.money import Money


class OrderStatus(StrEnum):
    CREATED = "CREATED"
    PAYMENT_IN_PROGRESS = "PAYMENT_IN_PROGRESS"
    PAYMENT_DONE = "PAYMENT_DONE"
    PAYMENT_FAILED = "PAYMENT_FAILED"
    ORDER_CANCELLED = "ORDER_CANCELLED"
    FULFILLMENT_STARTED = "FULFILLMENT_STARTED"


S = OrderStatus
# Every allowed transition; anything else is an InvalidStateTransition.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.CREATED: frozenset({S.PAYMENT_IN_PROGRESS, S.ORDER_CANCELLED}),
    S.PAYMENT_IN_PROGRESS: frozenset({S.PAYMENT_DONE, S.PAYMENT_FAILED}),
    S.PAYMENT_FAILED: frozenset({S.PAYMENT_IN_PROGRESS, S.ORDER_CANCELLED}),
    S.PAYMENT_DONE: frozenset({S.ORDER_CANCELLED, S.FULFILLMENT_STARTED}),
    S.ORDER_CANCELLED: frozenset(),
    # Extension of SPEC section 3 (issue 14): a fulfilled order may still be cancelled,
    # which refunds the payment and returns the allocated stock.
    S.FULFILLMENT_STARTED: frozenset({S.ORDER_CANCELLED}),
}
PAID = frozenset({S.PAYMENT_DONE, S.FULFILLMENT_STARTED})

# Seed 001's status words, kept for the legacy routes.
LEGACY_STATUS: dict[OrderStatus, str] = {
    S.CREATED: "NEW",
    S.PAYMENT_IN_PROGRESS: "PROCESSING",
    S.PAYMENT_DONE: "SUCCESS",
    S.PAYMENT_FAILED: "FAILED",
    S.ORDER_CANCELLED: "CANCELLED",
    S.FULFILLMENT_STARTED: "SUCCESS",
}

MAX_LINE_ITEMS = 100


@dataclass(frozen=True, slots=True)
class LineItem:
    name: str
    quantity: int
    unit_amount_minor: int
    sku: str | None = None

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_amount_minor


@dataclass(frozen=True, slots=True)
class Customer:
    email: str | None = None
    name: str | None = None
    phone: str | None = None


def validate_items(items: list[LineItem], amount: Money) -> None:
    if len(items) > MAX_LINE_ITEMS:
        raise ValidationFailed(f"at most {MAX_LINE_ITEMS} items per order", field="items", code="too_many_items")
    for index, item in enumerate(items):
        if item.quantity < 1:
            raise ValidationFailed("quantity must be at least 1", field=f"items[{index}].quantity")
        if item.unit_amount_minor < 0:
            raise ValidationFailed("unit amount must not be negative", field=f"items[{index}].unit_amount")
    if items and sum(item.total_minor for item in items) != amount.amount_minor:
        raise ValidationFailed(
            "the items add up to a different total than the order amount",
            field="items",
            code="items_total_mismatch",
        )


@dataclass(eq=False, slots=True)
class Order(EventRecorder):
    id: uuid.UUID
    merchant_id: uuid.UUID
    amount: Money
    items: list[LineItem]
    customer: Customer
    status: OrderStatus
    created_at: datetime
    updated_at: datetime
    merchant_reference: str | None = None
    description: str | None = None
    attempt_count: int = 0
    estimated_delivery: date | None = None
    status_reason: str | None = None  # why the order is in its status (failure code, cancel reason)
    user_id: uuid.UUID | None = None  # the customer who placed it, if a customer did
    events: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        merchant_id: uuid.UUID,
        amount: Money,
        items: list[LineItem],
        customer: Customer,
        now: datetime,
        merchant_reference: str | None = None,
        description: str | None = None,
        user_id: uuid.UUID | None = None,
    ) -> Order:
        validate_items(items, amount)
        order = cls(
            id=new_id(),
            merchant_id=merchant_id,
            amount=amount,
            items=items,
            customer=customer,
            status=S.CREATED,
            created_at=now,
            updated_at=now,
            merchant_reference=merchant_reference,
            description=description,
            user_id=user_id,
        )
        order.record(
            "order.created", order.id, merchant_id, now,
            order_id=str(order.id), status=str(order.status),
            amount=amount.amount_minor, currency=amount.currency,
            merchant_reference=merchant_reference,
        )
        return order

    def snapshot(self) -> dict[str, Any]:
        """What every event about this order carries as `order` (webhooks, GET /events): the
        merchant can act on an event without fetching the order first."""
        return {"id": str(self.id), "merchant_reference": self.merchant_reference,
                "amount": self.amount.amount_minor, "currency": self.amount.currency, "status": str(self.status)}

    def record(self, type_: str, aggregate_id: uuid.UUID, merchant_id: uuid.UUID, at: datetime,
               **payload: Any) -> None:
        # The order as of this event (a later change in the same transaction has its own).
        EventRecorder.record(self, type_, aggregate_id, merchant_id, at, **payload, order=self.snapshot())

    def visible_to(self, customer_id: uuid.UUID | None) -> bool:
        """A customer sees only its own orders; merchants (key or staff) see them all."""
        return customer_id is None or self.user_id == customer_id

    def can_transition_to(self, target: OrderStatus) -> bool:
        return target in TRANSITIONS[self.status]

    def _transition(self, target: OrderStatus, now: datetime, reason: str | None = None) -> None:
        if not self.can_transition_to(target):
            raise InvalidStateTransition(
                f"order {self.id} cannot go from {self.status} to {target}",
                current_state=str(self.status),
                requested_state=str(target),
            )
        previous, self.status, self.updated_at = self.status, target, now
        self.status_reason = reason
        self.record(
            "order.status_changed", self.id, self.merchant_id, now,
            order_id=str(self.id), previous_status=str(previous), status=str(target), reason=reason,
        )

    def modify(
        self,
        now: datetime,
        amount: Money | None = None,
        items: list[LineItem] | None = None,
        customer: Customer | None = None,
        description: str | None = None,
    ) -> None:
        """Change what is being bought; only before any payment started."""
        if self.status is not S.CREATED:
            raise InvalidStateTransition(
                f"order {self.id} can only be modified in CREATED", current_state=str(self.status)
            )
        new_amount = amount or self.amount
        new_items = self.items if items is None else items
        validate_items(new_items, new_amount)
        self.amount, self.items = new_amount, new_items
        if customer is not None:
            self.customer = customer
        if description is not None:
            self.description = description
        self.updated_at = now
        self.record("order.updated", self.id, self.merchant_id, now, order_id=str(self.id),
                    amount=new_amount.amount_minor, currency=new_amount.currency)

    def cancel(self, now: datetime, reason: str | None = None) -> bool:
        """Cancel; returns True when the order was paid and so needs a refund."""
        was_paid = self.status in PAID
        self._transition(S.ORDER_CANCELLED, now, reason)
        return was_paid

    def start_payment(self, now: datetime, max_attempts: int) -> None:
        if self.can_transition_to(S.PAYMENT_IN_PROGRESS) and self.attempt_count >= max_attempts:
            raise RetryLimitReached(
                f"order {self.id} reached its limit of {max_attempts} payment attempts",
                current_state=str(self.status), attempts=self.attempt_count,
            )
        self._transition(S.PAYMENT_IN_PROGRESS, now)
        self.attempt_count += 1

    def mark_paid(self, now: datetime) -> None:
        self._transition(S.PAYMENT_DONE, now)

    def mark_payment_failed(self, now: datetime, failure_code: str | None = None) -> None:
        self._transition(S.PAYMENT_FAILED, now, failure_code)

    def start_fulfillment(self, now: datetime, estimated_delivery: date) -> None:
        """Stock is allocated: fulfillment starts, with the date the shopper can expect."""
        self._transition(S.FULFILLMENT_STARTED, now)
        self.estimated_delivery = estimated_delivery
        self.record("order.fulfillment_started", self.id, self.merchant_id, now, order_id=str(self.id),
                    estimated_delivery=estimated_delivery.isoformat(),
                    items=[{"sku": i.sku, "quantity": i.quantity} for i in self.items if i.sku is not None])


OrderLoader = Callable[[uuid.UUID, uuid.UUID], Awaitable["Order | None"]]


async def with_order_snapshots(events: list[DomainEvent], touched: Iterable[object],
                               load: OrderLoader) -> list[DomainEvent]:
    """The events of a commit, each event about an order (payment, refund...) carrying the
    order's snapshot as `order`: the order as this transaction leaves it (`touched`), else
    as stored (`load(merchant_id, order_id)`). The order's own events already carry theirs."""
    missing = [event for event in events if "order_id" in event.payload and "order" not in event.payload]
    if not missing:
        return events
    orders = {aggregate.id: aggregate for aggregate in touched if isinstance(aggregate, Order)}
    enriched: dict[uuid.UUID, DomainEvent] = {}
    for event in missing:
        try:
            order_id = uuid.UUID(str(event.payload["order_id"]))
        except ValueError:
            continue
        order = orders.get(order_id) or await load(event.merchant_id, order_id)
        if order is not None and order.merchant_id == event.merchant_id:
            orders[order_id] = order
            enriched[event.id] = replace(event, payload={**event.payload, "order": order.snapshot()})
    return [enriched.get(event.id, event) for event in events]


def duplicate_order(reference: str | None, existing: Order | None) -> DuplicateOrder:
    """The error for an order whose merchant reference another order (`existing`, when
    found) already has."""
    return DuplicateOrder(f"an order with merchant_reference {reference!r} already exists",
                          existing_order_id=str(existing.id) if existing else None)

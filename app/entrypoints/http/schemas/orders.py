"""Order request/response schemas (msgspec). Amounts are integer minor units."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

import msgspec
from msgspec import Meta

from app.domain.model.money import CURRENCY_EXPONENTS, DEFAULT_MAX_AMOUNT_MINOR
from app.domain.model.order import MAX_LINE_ITEMS, Customer, OrderStatus
from app.domain.model.pricing import RequestedItem
from app.domain.services.orders import NewOrder, OrderChanges, OrderView
from app.entrypoints.http.schemas import patterns
from app.entrypoints.http.schemas.payments import Payment, Refund

Amount = Annotated[int, Meta(ge=1, le=DEFAULT_MAX_AMOUNT_MINOR,
                             description="minor units (cents for USD, yen for JPY, fils for KWD), written as a "
                                         "JSON integer: 2500, never 2500.0 or \"2500\"")]
# The currencies we accept, as an enum, so clients and the schema know them up front.
# (Built from the table, so mypy cannot list the members: it sees a StrEnum.)
CurrencyCode = StrEnum("CurrencyCode", {code: code for code in sorted(CURRENCY_EXPONENTS)})  # type: ignore[misc]
Currency = Annotated[CurrencyCode, Meta(description="ISO 4217 code")]
# PostgreSQL text and jsonb cannot hold NUL characters: refuse them at the edge.
NO_NUL = patterns.NO_NUL
ShortText = Annotated[str, Meta(min_length=1, max_length=200, pattern=NO_NUL)]
# Litestar's OpenAPI drops a falsy bound (ge=0): say "not negative" as gt=-1 instead.
LongText = Annotated[str, Meta(max_length=1000, pattern=NO_NUL)]


class LineItemIn(msgspec.Struct, forbid_unknown_fields=True):
    """A catalog line names a sku (name and price then come from the catalog; a
    unit_amount sent must match it); a free line gives name and unit_amount."""

    quantity: Annotated[int, Meta(ge=1, le=100_000)]
    name: ShortText | None = None
    unit_amount: Annotated[int, Meta(gt=-1, le=9_007_199_254_740_991)] | None = None
    sku: Annotated[str, Meta(min_length=1, max_length=64, pattern=NO_NUL)] | None = None

    def to_domain(self) -> RequestedItem:
        return RequestedItem(self.quantity, self.sku, self.name, self.unit_amount)


class CustomerIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, Meta(max_length=254, pattern=patterns.EMAIL)] | None = None
    name: ShortText | None = None
    phone: Annotated[str, Meta(pattern=patterns.PHONE)] | None = None

    def to_domain(self) -> Customer:
        return Customer(self.email, self.name, self.phone)


Items = Annotated[list[LineItemIn], Meta(max_length=MAX_LINE_ITEMS)]


class OrderCreate(msgspec.Struct, forbid_unknown_fields=True):
    currency: Currency
    amount: Amount | None = None  # left out: the items add up to it
    items: Items = []
    customer: CustomerIn | None = None
    merchant_reference: Annotated[str, Meta(min_length=1, max_length=128, pattern=NO_NUL)] | None = None
    description: LongText | None = None

    def to_domain(self) -> NewOrder:
        customer = self.customer.to_domain() if self.customer else Customer()
        return NewOrder(self.amount, self.currency, [i.to_domain() for i in self.items], customer,
                        self.merchant_reference, self.description)


class OrderUpdate(msgspec.Struct, forbid_unknown_fields=True):
    amount: Amount | None = None
    currency: Currency | None = None
    items: Items | None = None
    customer: CustomerIn | None = None
    description: LongText | None = None

    def to_domain(self) -> OrderChanges:
        return OrderChanges(
            self.amount, self.currency, [i.to_domain() for i in self.items] if self.items is not None else None,
            self.customer.to_domain() if self.customer else None, self.description,
        )


class OrderCancel(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=500, pattern=NO_NUL)] | None = None


class LineItemOut(msgspec.Struct):
    name: str
    quantity: int
    unit_amount: int
    sku: str | None


class CustomerOut(msgspec.Struct):
    email: str | None
    name: str | None
    phone: str | None


class Order(msgspec.Struct):
    id: uuid.UUID
    status: OrderStatus
    amount: int
    currency: str
    items: list[LineItemOut]
    customer: CustomerOut
    merchant_reference: str | None
    description: str | None
    attempt_count: int
    estimated_delivery: date | None
    status_reason: str | None
    created_at: datetime
    updated_at: datetime
    payments: list[Payment] = []
    refunds: list[Refund] = []

    @classmethod
    def from_view(cls, view: OrderView) -> Order:
        order = view.order
        return cls(
            id=order.id, status=order.status, amount=order.amount.amount_minor, currency=order.amount.currency,
            items=[LineItemOut(i.name, i.quantity, i.unit_amount_minor, i.sku) for i in order.items],
            customer=CustomerOut(order.customer.email, order.customer.name, order.customer.phone),
            merchant_reference=order.merchant_reference, description=order.description,
            attempt_count=order.attempt_count, estimated_delivery=order.estimated_delivery,
            status_reason=order.status_reason,
            created_at=order.created_at, updated_at=order.updated_at,
            payments=[Payment.from_domain(a) for a in view.attempts],
            refunds=[Refund.from_domain(r) for r in view.refunds],
        )


class OrderPage(msgspec.Struct):
    data: list[Order]
    has_more: bool
    next_cursor: str | None

"""Modifying an order (only in CREATED) and the rules its items must keep."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.errors import InvalidStateTransition, ValidationFailed
from app.domain.model.money import Money
from app.domain.model.order import MAX_LINE_ITEMS, Customer, LineItem, Order, OrderStatus
from tests.unit.builders import CUSTOMER, ITEMS, NOW, new_order

S = OrderStatus
LATER = NOW + timedelta(minutes=1)


def create(amount: int, items: list[LineItem]) -> Order:
    return Order.create(new_order().merchant_id, Money.of(amount, "USD"), items, CUSTOMER, NOW)


def test_modify_in_created_changes_the_order_and_records_order_updated():
    order = new_order()
    new_customer = Customer(email="grace@example.com")
    order.modify(LATER, Money.of(300, "EUR"), [LineItem("Tea", 3, 100)], new_customer, "tea instead")
    assert order.amount == Money(300, "EUR") and order.items == [LineItem("Tea", 3, 100)]
    assert order.customer == new_customer and order.description == "tea instead"
    assert order.status is S.CREATED and order.updated_at == LATER
    [event] = order.pull_events()
    assert event.type == "order.updated" and event.payload["amount"] == 300 and event.payload["currency"] == "EUR"


def test_modify_keeps_what_is_not_given():
    order = new_order()
    order.modify(LATER, description="gift wrap")
    assert order.amount == Money(2500, "USD") and order.items == ITEMS and order.customer == CUSTOMER


def test_modify_to_no_items_accepts_any_amount():
    order = new_order()
    order.modify(LATER, Money.of(700, "USD"), [])
    assert order.amount.amount_minor == 700 and order.items == []


@pytest.mark.parametrize("status", [s for s in S if s is not S.CREATED])
def test_modify_outside_created_is_refused(status):
    order = new_order(status=status)
    with pytest.raises(InvalidStateTransition) as raised:
        order.modify(LATER, Money.of(100, "USD"), [])
    assert raised.value.details["current_state"] == status
    assert order.amount == Money(2500, "USD") and order.items == ITEMS and order.updated_at != LATER
    assert order.pull_events() == []


def test_rejected_modify_changes_nothing():
    order = new_order()
    with pytest.raises(ValidationFailed) as raised:
        order.modify(LATER, Money.of(999, "USD"))  # the current items add up to 2500
    assert raised.value.code == "items_total_mismatch"
    assert order.amount == Money(2500, "USD") and order.updated_at == NOW and order.pull_events() == []


def test_items_must_add_up_to_the_amount():
    with pytest.raises(ValidationFailed) as raised:
        create(2499, list(ITEMS))
    assert raised.value.code == "items_total_mismatch" and raised.value.details["field"] == "items"


def test_at_most_max_line_items():
    assert len(create(MAX_LINE_ITEMS, [LineItem("Pin", 1, 1)] * MAX_LINE_ITEMS).items) == MAX_LINE_ITEMS
    with pytest.raises(ValidationFailed) as raised:
        create(MAX_LINE_ITEMS + 1, [LineItem("Pin", 1, 1)] * (MAX_LINE_ITEMS + 1))
    assert raised.value.code == "too_many_items"


@pytest.mark.parametrize("quantity", [0, -1])
def test_quantity_must_be_at_least_one(quantity):
    with pytest.raises(ValidationFailed) as raised:
        create(500, [LineItem("Shipping", 1, 500), LineItem("Mug", quantity, 1000)])
    assert raised.value.details["field"] == "items[1].quantity"


def test_unit_amount_must_not_be_negative():
    with pytest.raises(ValidationFailed) as raised:
        create(500, [LineItem("Mug", 1, 600), LineItem("Coupon", 1, -100)])
    assert raised.value.details["field"] == "items[1].unit_amount"


def test_free_items_and_no_items_are_fine():
    assert create(500, [LineItem("Mug", 1, 500), LineItem("Sticker", 2, 0)]).status is S.CREATED
    assert create(500, []).items == []

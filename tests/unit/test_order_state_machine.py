"""The order state machine of SPEC section 3, driven through the aggregate's own methods.
The allowed set is written out from the spec here, not imported from the model."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from app.domain.errors import InvalidStateTransition, RetryLimitReached
from app.domain.model.money import Money
from app.domain.model.order import TRANSITIONS, Customer, Order, OrderStatus
from tests.unit.builders import NOW, PATHS, drive, new_order

S = OrderStatus
LATER = NOW + timedelta(minutes=5)
SPEC_ALLOWED = {
    (S.CREATED, S.PAYMENT_IN_PROGRESS),
    (S.PAYMENT_IN_PROGRESS, S.PAYMENT_DONE),
    (S.PAYMENT_IN_PROGRESS, S.PAYMENT_FAILED),
    (S.PAYMENT_FAILED, S.PAYMENT_IN_PROGRESS),
    (S.CREATED, S.ORDER_CANCELLED),
    (S.PAYMENT_FAILED, S.ORDER_CANCELLED),
    (S.PAYMENT_DONE, S.ORDER_CANCELLED),
    (S.PAYMENT_DONE, S.FULFILLMENT_STARTED),
    # Issue 14 extends SPEC section 3: cancelling a fulfilled order refunds it and returns the stock.
    (S.FULFILLMENT_STARTED, S.ORDER_CANCELLED),
}
# The one method that asks for each target state (nothing leads back to CREATED).
METHOD_FOR = {
    S.PAYMENT_IN_PROGRESS: "start_payment",
    S.PAYMENT_DONE: "mark_paid",
    S.PAYMENT_FAILED: "mark_payment_failed",
    S.ORDER_CANCELLED: "cancel",
    S.FULFILLMENT_STARTED: "start_fulfillment",
}
PAIRS = list(itertools.product(S, METHOD_FOR))
ALLOWED = [pair for pair in PAIRS if pair in SPEC_ALLOWED]
FORBIDDEN = [pair for pair in PAIRS if pair not in SPEC_ALLOWED]


def pair_id(pair: tuple[OrderStatus, OrderStatus]) -> str:
    return f"{pair[0]}->{pair[1]}"


def test_every_spec_transition_is_reachable_through_a_method():
    assert set(ALLOWED) == SPEC_ALLOWED and len(ALLOWED) + len(FORBIDDEN) == 30


def test_the_model_table_is_the_spec():
    assert {(source, target) for source, targets in TRANSITIONS.items() for target in targets} == SPEC_ALLOWED


@pytest.mark.parametrize("source", list(S))
def test_nothing_leads_back_to_created(source):
    assert not new_order(status=source).can_transition_to(S.CREATED)


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=map(pair_id, ALLOWED))
def test_allowed_transition_changes_status_and_records_one_event(source, target):
    order = new_order(status=source)
    drive(order, METHOD_FOR[target], LATER)
    assert order.status is target and order.updated_at == LATER
    event, *more = order.pull_events()
    # Fulfillment also announces itself with its delivery estimate (order.fulfillment_started).
    assert [e.type for e in more] == (["order.fulfillment_started"] if target is S.FULFILLMENT_STARTED else [])
    assert event.type == "order.status_changed"
    assert event.aggregate_id == order.id and event.merchant_id == order.merchant_id
    assert event.occurred_at == LATER
    assert event.payload["previous_status"] == source and event.payload["status"] == target
    assert event.payload["order_id"] == str(order.id)


@pytest.mark.parametrize(("source", "target"), FORBIDDEN, ids=map(pair_id, FORBIDDEN))
def test_forbidden_transition_raises_with_current_state_and_changes_nothing(source, target):
    order = new_order(status=source)
    before = (order.updated_at, order.attempt_count, order.estimated_delivery)
    with pytest.raises(InvalidStateTransition) as raised:
        drive(order, METHOD_FOR[target], LATER)
    assert raised.value.details["current_state"] == source
    assert raised.value.code == "invalid_state_transition"
    assert order.status is source
    assert (order.updated_at, order.attempt_count, order.estimated_delivery) == before
    assert order.pull_events() == []


def test_builder_paths_reach_their_states():
    assert all(new_order(status=status).status is status for status in PATHS)


def test_create_records_order_created():
    order = Order.create(new_order().merchant_id, Money.of(700, "EUR"), [], Customer(), NOW, "ref-7")
    [event] = order.pull_events()
    assert order.status is S.CREATED and order.attempt_count == 0
    assert event.type == "order.created"
    assert event.payload == {"order_id": str(order.id), "status": "CREATED", "amount": 700, "currency": "EUR",
                             "merchant_reference": "ref-7",
                             "order": {"id": str(order.id), "merchant_reference": "ref-7", "amount": 700,
                                       "currency": "EUR", "status": "CREATED"}}


def test_every_order_event_carries_the_order_as_of_the_event():
    order = new_order(status=S.CREATED)
    order.start_payment(NOW, max_attempts=3)
    order.mark_paid(NOW)
    started, paid = order.pull_events()
    assert started.payload["order"]["status"] == "PAYMENT_IN_PROGRESS"
    assert paid.payload["order"] == {"id": str(order.id), "merchant_reference": order.merchant_reference,
                                     "amount": order.amount.amount_minor, "currency": order.amount.currency,
                                     "status": "PAYMENT_DONE"}


@pytest.mark.parametrize(("source", "refund_needed"),
                         [(S.CREATED, False), (S.PAYMENT_FAILED, False), (S.PAYMENT_DONE, True)])
def test_cancel_says_whether_a_refund_is_needed(source, refund_needed):
    order = new_order(status=source)
    assert order.cancel(LATER, "changed my mind") is refund_needed
    [event] = order.pull_events()
    assert order.status is S.ORDER_CANCELLED and event.payload["reason"] == "changed my mind"


def test_payment_failure_code_is_the_event_reason():
    order = new_order(status=S.PAYMENT_IN_PROGRESS)
    order.mark_payment_failed(LATER, "card_declined")
    assert order.pull_events()[0].payload["reason"] == "card_declined"


def test_fulfillment_records_the_estimated_delivery():
    order = new_order(status=S.PAYMENT_DONE)
    order.start_fulfillment(LATER, date(2026, 1, 22))
    assert order.status is S.FULFILLMENT_STARTED and order.estimated_delivery == date(2026, 1, 22)


def test_each_payment_start_counts_an_attempt():
    order = new_order()
    for expected in (1, 2, 3):
        order.start_payment(LATER, max_attempts=3)
        assert order.attempt_count == expected
        order.mark_payment_failed(LATER)


def test_retry_after_the_last_allowed_attempt_is_refused():
    order = new_order()
    for _ in range(2):
        order.start_payment(NOW, max_attempts=2)
        order.mark_payment_failed(NOW)
    order.pull_events()
    with pytest.raises(RetryLimitReached) as raised:
        order.start_payment(LATER, max_attempts=2)
    assert raised.value.code == "retry_limit_reached"
    assert raised.value.details == {"current_state": "PAYMENT_FAILED", "attempts": 2}
    assert order.status is S.PAYMENT_FAILED and order.attempt_count == 2 and order.updated_at == NOW
    assert order.pull_events() == []


def test_retry_limit_does_not_mask_a_forbidden_transition():
    order = new_order(status=S.PAYMENT_IN_PROGRESS)  # one attempt made
    with pytest.raises(InvalidStateTransition):
        order.start_payment(LATER, max_attempts=1)


def test_retry_below_the_limit_is_allowed():
    order = new_order(status=S.PAYMENT_FAILED)  # one attempt made
    order.start_payment(LATER, max_attempts=2)
    assert order.status is S.PAYMENT_IN_PROGRESS and order.attempt_count == 2

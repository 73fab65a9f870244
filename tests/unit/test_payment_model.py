"""Payment attempts and refunds: final states are terminal; every verdict is an event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.domain.errors import InvalidStateTransition
from app.domain.model.card import CardDetails, CardToken
from app.domain.model.order import OrderStatus
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.domain.model.refund import Refund, RefundStatus
from tests.unit.builders import NOW, attempt_for, new_order

A = AttemptStatus
LATER = NOW + timedelta(seconds=30)
OPEN, FINAL = [A.INITIATED, A.PENDING], [A.SUCCESS, A.FAILED]


def attempt(status: AttemptStatus = A.INITIATED):
    return attempt_for(new_order(), status)


def test_start_opens_an_initiated_attempt_numbered_after_the_order():
    order = new_order(status=OrderStatus.PAYMENT_FAILED)
    order.start_payment(LATER, max_attempts=3)
    card = CardDetails.parse("4242424242424242", 12, 2030, "123", NOW.date())
    payment = PaymentAttempt.start(order, "sandbox", card, LATER)
    assert payment.status is A.INITIATED and payment.attempt_number == 2 == order.attempt_count
    assert (payment.order_id, payment.merchant_id, payment.amount) == (order.id, order.merchant_id, order.amount)
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242") and payment.created_at == LATER
    [event] = payment.pull_events()
    assert event.type == "payment.requested" and event.aggregate_id == payment.id
    assert event.payload == {"payment_id": str(payment.id), "order_id": str(order.id), "provider": "sandbox",
                             "amount": 2500, "currency": "USD", "attempt_number": 2}


@pytest.mark.parametrize(("method", "brand", "last4"), [
    (CardToken("tok_1", "mastercard", "4444"), "mastercard", "4444"),
    (CardToken("tok_2"), "card", None),
    (None, None, None),  # a redirect provider collects the card
])
def test_start_keeps_only_brand_and_last4_of_the_method(method, brand, last4):
    payment = PaymentAttempt.start(new_order(status=OrderStatus.PAYMENT_IN_PROGRESS), "paypal", method, LATER)
    assert (payment.card_brand, payment.card_last4) == (brand, last4)


@pytest.mark.parametrize("status", OPEN)
def test_open_attempt_goes_pending_with_provider_details(status):
    payment = attempt(status)
    payment.mark_pending(LATER, "pi_123", "https://provider.example/approve")
    assert payment.status is A.PENDING and payment.updated_at == LATER
    assert payment.provider_reference == "pi_123" and payment.redirect_url == "https://provider.example/approve"


def test_pending_again_keeps_known_provider_details():
    payment = attempt()
    payment.mark_pending(NOW, "pi_123", "https://provider.example/approve")
    payment.mark_pending(LATER, None)
    assert payment.provider_reference == "pi_123" and payment.redirect_url == "https://provider.example/approve"


@pytest.mark.parametrize("status", OPEN)
def test_open_attempt_succeeds_and_records_payment_succeeded(status):
    payment = attempt(status)
    payment.succeed(LATER, "ch_1")
    assert payment.status is A.SUCCESS and payment.is_final and payment.provider_reference == "ch_1"
    [event] = payment.pull_events()
    assert event.type == "payment.succeeded" and event.aggregate_id == payment.id and event.occurred_at == LATER
    assert event.payload == {"payment_id": str(payment.id), "order_id": str(payment.order_id),
                             "provider": "sandbox", "amount": 2500, "currency": "USD"}


@pytest.mark.parametrize("status", OPEN)
def test_open_attempt_fails_with_code_and_records_payment_failed(status):
    payment = attempt(status)
    payment.fail(LATER, "card_declined", "Your card was declined.")
    assert payment.status is A.FAILED and payment.is_final
    assert (payment.failure_code, payment.failure_message) == ("card_declined", "Your card was declined.")
    [event] = payment.pull_events()
    assert event.type == "payment.failed"
    assert event.payload["failure_code"] == "card_declined"
    assert event.payload["failure_message"] == "Your card was declined."


@pytest.mark.parametrize("status", FINAL)
@pytest.mark.parametrize("verdict", ["succeed", "fail", "mark_pending"])
def test_final_attempt_is_terminal(status, verdict):
    payment = attempt(status)
    arguments = {"succeed": (LATER,), "fail": (LATER, "processing_error"), "mark_pending": (LATER, "pi_9")}
    with pytest.raises(InvalidStateTransition) as raised:
        getattr(payment, verdict)(*arguments[verdict])
    assert raised.value.details["current_state"] == status
    assert payment.status is status and payment.updated_at == NOW and payment.provider_reference is None
    assert payment.pull_events() == []


def test_refund_request_copies_the_paid_attempt():
    paid = attempt(A.SUCCESS)
    refund = Refund.request(paid, LATER)
    assert refund.status is RefundStatus.PENDING
    assert (refund.order_id, refund.payment_id, refund.merchant_id) == (paid.order_id, paid.id, paid.merchant_id)
    assert refund.amount == paid.amount and refund.provider == paid.provider and refund.created_at == LATER
    [event] = refund.pull_events()
    assert event.type == "refund.requested" and event.aggregate_id == refund.id
    assert event.payload == {"refund_id": str(refund.id), "order_id": str(paid.order_id),
                             "payment_id": str(paid.id), "amount": 2500, "currency": "USD",
                             "purpose": "cancellation"}
    assert refund.target_reference == paid.provider_reference  # the capture the attempt made


def test_refund_settles_successfully():
    refund = Refund.request(attempt(A.SUCCESS), NOW)
    refund.pull_events()
    refund.settle(LATER, succeeded=True, provider_reference="re_1")
    assert refund.status is RefundStatus.SUCCESS and refund.provider_reference == "re_1" and refund.updated_at == LATER
    assert [e.type for e in refund.pull_events()] == ["refund.succeeded"]


def test_refund_settles_as_failed_with_code():
    refund = Refund.request(attempt(A.SUCCESS), NOW)
    refund.pull_events()
    refund.settle(LATER, succeeded=False, code="processing_error", message="try later")
    assert refund.status is RefundStatus.FAILED
    assert (refund.failure_code, refund.failure_message) == ("processing_error", "try later")
    [event] = refund.pull_events()
    assert event.type == "refund.failed" and event.payload["failure_code"] == "processing_error"


@pytest.mark.parametrize("succeeded", [True, False])
def test_settled_refund_is_terminal(succeeded):
    refund = Refund.request(attempt(A.SUCCESS), NOW)
    refund.settle(NOW, succeeded=succeeded)
    refund.pull_events()
    settled = refund.status
    with pytest.raises(InvalidStateTransition) as raised:
        refund.settle(LATER, succeeded=not succeeded)
    assert raised.value.details["current_state"] == settled
    assert refund.status is settled and refund.pull_events() == []

"""The matching rule (app/domain/model/verdict.py): pure, no fakes needed."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from app.domain.model.money import Money
from app.domain.model.payment import AttemptStatus
from app.domain.model.provider import Outcome, ProviderResult, ReportedPayment
from app.domain.model.verdict import (MismatchReason as R, VerdictOrigin, VerdictSource, unrequested_capture,
                                      verdict_mismatches)
from tests.unit.builders import attempt_for, new_order

ATTEMPT = attempt_for(new_order(), AttemptStatus.PENDING)
ATTEMPT.provider_reference = "sbx_pay_real"
CALLBACK = VerdictOrigin("sandbox", VerdictSource.CALLBACK, "evt_1")
GENUINE = ReportedPayment(2500, "USD", ATTEMPT.id, ATTEMPT.order_id, ATTEMPT.merchant_id)


def success(reference: str | None = "sbx_pay_real", **reported: object) -> ProviderResult:
    return ProviderResult(Outcome.SUCCEEDED, reference, reported=dataclasses.replace(GENUINE, **reported))


def test_a_verdict_reporting_exactly_the_attempt_matches():
    assert verdict_mismatches(ATTEMPT, CALLBACK, success()) == ()
    assert verdict_mismatches(ATTEMPT, CALLBACK, success(currency="usd")) == ()  # Stripe's lowercase codes


@pytest.mark.parametrize(("result", "reasons"), [
    (success(amount_minor=1, currency="JPY"), (R.AMOUNT, R.CURRENCY)),  # finding 1: 1 JPY on 25.00 USD
    (success(amount_minor=2499), (R.AMOUNT,)),
    (success(currency="EUR"), (R.CURRENCY,)),
    (success("sbx_pay_other"), (R.REFERENCE,)),
    (success(attempt_id=uuid.uuid4()), (R.ATTEMPT,)),
    (success(order_id=uuid.uuid4(), merchant_id=uuid.uuid4()), (R.ORDER, R.MERCHANT)),  # another merchant's order
    (success("sbx_pay_fake", amount_minor=1, attempt_id=None), (R.REFERENCE, R.AMOUNT)),  # the 1-cent attack
])
def test_each_disagreement_is_named(result, reasons):
    assert verdict_mismatches(ATTEMPT, CALLBACK, result) == reasons


def test_another_provider_cannot_settle_the_attempt():
    assert verdict_mismatches(ATTEMPT, VerdictOrigin("stripe", VerdictSource.CALLBACK), success()) == (R.PROVIDER,)


def test_a_success_must_say_how_much_was_captured():
    silent = ProviderResult(Outcome.SUCCEEDED, "sbx_pay_real")
    assert verdict_mismatches(ATTEMPT, CALLBACK, silent) == (R.AMOUNT, R.CURRENCY)


def test_a_failure_without_amount_matches_but_not_one_about_another_payment():
    declined = ProviderResult(Outcome.FAILED, None, "card_declined")
    assert verdict_mismatches(ATTEMPT, CALLBACK, declined) == ()
    other = ProviderResult(Outcome.FAILED, "sbx_pay_other", "card_declined")
    assert verdict_mismatches(ATTEMPT, CALLBACK, other) == (R.REFERENCE,)


def test_the_first_reference_is_accepted_when_the_attempt_has_none_yet():
    fresh = attempt_for(new_order(), AttemptStatus.INITIATED)
    result = ProviderResult(Outcome.SUCCEEDED, "anything", reported=ReportedPayment(2500, "USD", fresh.id))
    assert verdict_mismatches(fresh, CALLBACK, result) == ()


def test_an_unknown_attempt_never_matches():
    assert verdict_mismatches(None, CALLBACK, success()) == (R.UNKNOWN_ATTEMPT,)


def test_the_money_of_a_reported_capture():
    def capture(result, origin=CALLBACK):
        return unrequested_capture(ATTEMPT, origin, result)

    assert capture(success("sbx_pay_fake", amount_minor=1, currency="jpy")) == ("sbx_pay_fake", Money(1, "JPY"))
    stripe = VerdictOrigin("stripe", VerdictSource.CALLBACK)
    assert capture(success(), stripe) == ("sbx_pay_real", Money(2500, "USD"))  # another provider's capture
    assert capture(ProviderResult(Outcome.FAILED, "x", reported=GENUINE)) is None  # no money moved
    assert capture(success(None)) is None  # nothing to address a refund to
    assert capture(success("sbx_pay_fake", currency="XXX")) is None  # cannot be measured: operators decide
    # Our own capture reported with other facts: refunding on them could take the wrong amount back.
    assert capture(success(amount_minor=1, currency="JPY")) is None

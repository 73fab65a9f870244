"""SandboxProvider and 3-D Secure, against the real gateway app in process: the return_url
goes out, requires_action comes back as PENDING with the page to send the shopper to, the
shopper's answer comes back as a signed callback; a look-up by key reports what it found,
for the domain's matching rule to accept or refuse."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import httpx
import pytest

from app.adapters.providers.sandbox import SandboxProvider
from app.domain.model.card import CardDetails, CardToken
from app.domain.model.money import Money
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.domain.model.provider import CallbackKind, Outcome, PaymentRequest
from app.domain.model.verdict import MismatchReason, VerdictOrigin, VerdictSource, verdict_mismatches
from tests.integration.sandbox.callback_receiver import CallbackReceiver
from tests.integration.sandbox.support import NEXT_YEAR

RETURN_URL = "https://shop.example/orders/7/back"
THREE_DS = CardDetails.parse("4000000000003220", 12, NEXT_YEAR, "123", date.today())


def three_d_secure_request(attempt_id: uuid.UUID, return_url: str | None = RETURN_URL) -> PaymentRequest:
    return PaymentRequest(attempt_id, uuid.uuid4(), uuid.uuid4(), Money(1999, "EUR"), THREE_DS, return_url=return_url)


@pytest.mark.parametrize(("answer", "outcome", "code"), [
    ("approve", Outcome.SUCCEEDED, None),
    ("refuse", Outcome.FAILED, "authentication_required"),
])
async def test_the_shopper_answer_reaches_the_adapter_as_a_verdict(
        provider: SandboxProvider, same_loop_gateway: httpx.AsyncClient, receiver: CallbackReceiver,
        answer: str, outcome: Outcome, code: str | None) -> None:
    attempt_id = uuid.uuid4()
    accepted = await provider.purchase(three_d_secure_request(attempt_id))
    assert accepted.outcome is Outcome.PENDING and accepted.redirect_url
    assert accepted.redirect_url.endswith(f"/_sandbox/3ds/{accepted.provider_reference}")
    payment = (await same_loop_gateway.get(f"/v1/payments/{accepted.provider_reference}")).json()
    assert payment["status"] == "requires_action"
    polled = await provider.get_status(attempt_id, accepted.provider_reference, Money(1999, "EUR"))
    assert (polled.outcome, polled.redirect_url) == (Outcome.PENDING, accepted.redirect_url)

    back = await same_loop_gateway.post(f"/_sandbox/3ds/{accepted.provider_reference}/{answer}")
    assert back.headers["location"].startswith(RETURN_URL + "?")
    [callback] = await receiver.wait_for(1)
    event = await provider.parse_callback(dict(callback.headers), callback.content)
    assert (event.kind, event.attempt_id) == (CallbackKind.PAYMENT, attempt_id)
    assert (event.result.outcome, event.result.failure_code) == (outcome, code)
    settled = await provider.get_status(attempt_id, accepted.provider_reference, Money(1999, "EUR"))
    assert (settled.outcome, settled.failure_code, settled.redirect_url) == (outcome, code, None)


async def test_a_look_up_reports_what_it_found_and_the_domain_refuses_what_is_not_the_attempts(
        provider: SandboxProvider, same_loop_gateway: httpx.AsyncClient) -> None:
    request = PaymentRequest(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), Money(1999, "EUR"), CardToken("tok_no_callback"))
    accepted = await provider.purchase(request)
    found = await provider.get_status(request.attempt_id, accepted.provider_reference, request.amount)
    assert verdict_mismatches(attempt(request, request.amount, accepted.provider_reference), STATUS, found) == ()
    for wrong, reasons in ((Money(1, "EUR"), (MismatchReason.AMOUNT,)), (Money(1999, "USD"), (MismatchReason.CURRENCY,))):
        assert verdict_mismatches(attempt(request, wrong, accepted.provider_reference), STATUS, found) == reasons
    # Made under our attempt id by someone else, tagged for another attempt: the key and
    # the metadata disagree, so it is no payment of this attempt's.
    stranger_key = uuid.uuid4()
    await same_loop_gateway.post("/v1/payments", json={
        "amount": 1999, "currency": "EUR", "token": "tok_success", "idempotency_key": str(stranger_key),
        "metadata": {"attempt_id": str(uuid.uuid4())}})
    stranger = await provider.get_status(stranger_key, None, Money(1999, "EUR"))
    ours = PaymentRequest(stranger_key, uuid.uuid4(), uuid.uuid4(), Money(1999, "EUR"), None)
    assert verdict_mismatches(attempt(ours, ours.amount), STATUS, stranger) == (MismatchReason.ATTEMPT,)


STATUS = VerdictOrigin("sandbox", VerdictSource.STATUS)


def attempt(request: PaymentRequest, amount: Money, reference: str | None = None) -> PaymentAttempt:
    """The attempt `request` was sent for, asking for `amount`."""
    now = datetime.now(UTC)
    return PaymentAttempt(request.attempt_id, request.order_id, request.merchant_id, "sandbox", amount,
                          AttemptStatus.PENDING, now, now, provider_reference=reference)

"""3-D Secure with Stripe through the use cases: the merchant's return_url reaches Stripe's
confirm, a requires_action answer leaves the attempt PENDING with Stripe's redirect, and
the webhook that follows the shopper's answer settles it. Use cases over in-memory fakes,
the real StripeProvider, Stripe's HTTP mocked with respx."""

from __future__ import annotations

import uuid

import httpx
import pytest
import respx

from app.adapters.providers.stripe import StripeProvider, StripeSettings
from app.domain.model.card import CardToken
from app.domain.services.callbacks import CallbackOutcome, CallbackService
from app.domain.services.payments import PaymentPolicy, PaymentService
from app.domain.services.refunds import RefundService
from app.domain.services.verdicts import VerdictGate
from tests.integration.providers import stripe_fixtures as fx
from tests.integration.providers.builders import form_of
from tests.integration.providers.test_stripe import BASE, CURRENT_SECRET, SECRET_KEY, signed
from tests.unit.builders import new_order
from tests.unit.fake_providers import FakeProviderRegistry, InMemoryCardDataCache, RecordingVerdictAlarm
from tests.unit.fakes import FakeClock, InMemoryUnitOfWorkFactory

RETURN_URL = "https://shop.example/orders/42/back"


class StripeWorld:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.uow = InMemoryUnitOfWorkFactory()
        clock = FakeClock()
        stripe = StripeProvider(StripeSettings(secret_key=SECRET_KEY, webhook_secrets=[CURRENT_SECRET],
                                               api_base=BASE), client)
        registry = FakeProviderRegistry(stripe)  # the real adapter, in the fakes' registry
        self.payments = PaymentService(self.uow, clock, registry, InMemoryCardDataCache(),
                                       PaymentPolicy(), VerdictGate(clock, RecordingVerdictAlarm()))
        self.callbacks = CallbackService(self.uow, registry, self.payments, RefundService(self.uow, clock, registry))
        self.order = new_order()
        self.uow.seed(self.order)

    async def pay(self) -> uuid.UUID:
        attempt = await self.payments.request(self.order.merchant_id, self.order.id, "stripe",
                                              CardToken("pm_card_threeDSecure2Required"), return_url=RETURN_URL)
        await self.payments.dispatch(attempt.id)
        return attempt.id

    async def state(self) -> tuple[str, str, str | None, str | None]:
        async with self.uow() as uow:
            order = await uow.orders.get(self.order.merchant_id, self.order.id)
            [attempt] = await uow.payments.for_order(self.order.id)
        return order.status.value, attempt.status.value, attempt.redirect_url, attempt.failure_code


def intent_for(request: httpx.Request, status: str, **fields: object) -> dict:
    """Stripe's answer for the intent this request created (its metadata is ours)."""
    form = form_of(request)
    metadata = {key[9:-1]: value for key, value in form.items() if key.startswith("metadata[")}
    return fx.payment_intent(status, metadata=metadata, amount=int(form["amount"]), currency=form["currency"],
                             **fields)


@pytest.mark.parametrize(("webhook", "order_status", "attempt_status", "code"), [
    ("payment_intent.succeeded", "PAYMENT_DONE", "SUCCESS", None),
    ("payment_intent.payment_failed", "PAYMENT_FAILED", "FAILED", "authentication_required"),
])
async def test_the_attempt_waits_for_the_shopper_and_the_webhook_decides(http_client, webhook, order_status,
                                                                         attempt_status, code):
    world = StripeWorld(http_client)
    redirect = fx.three_d_secure_redirect(RETURN_URL)
    with respx.mock(base_url=BASE) as api:
        route = api.post("/v1/payment_intents").mock(side_effect=lambda request: httpx.Response(
            200, json=intent_for(request, "requires_action", next_action=redirect)))
        attempt_id = await world.pay()
    sent = form_of(route.calls.last.request)
    assert (sent["return_url"], sent["confirm"], sent["metadata[attempt_id]"]) == (RETURN_URL, "true", str(attempt_id))
    assert await world.state() == ("PAYMENT_IN_PROGRESS", "PENDING", redirect["redirect_to_url"]["url"], None)
    assert [e.payload["redirect_url"] for e in world.uow.outbox if e.type == "payment.requires_action"] == \
        [redirect["redirect_to_url"]["url"]]

    metadata = {"attempt_id": str(attempt_id)}
    ours = {"amount": world.order.amount.amount_minor, "amount_received": world.order.amount.amount_minor}
    requires_action = fx.event("payment_intent.requires_action",
                               fx.payment_intent("requires_action", next_action=redirect, metadata=metadata,
                                                 amount=world.order.amount.amount_minor),
                               event_id="evt_3ds_requires_action")
    assert await world.callbacks.handle("stripe", *signed(requires_action)) is CallbackOutcome.APPLIED
    assert (await world.state())[:2] == ("PAYMENT_IN_PROGRESS", "PENDING")  # news, not a verdict

    error = {"type": "invalid_request_error", "code": "payment_intent_authentication_failure",
             "message": "The provided PaymentMethod has failed authentication."}
    intent = (fx.payment_intent("succeeded", metadata=metadata, **ours) if webhook == "payment_intent.succeeded"
              else fx.payment_intent("requires_payment_method", metadata=metadata, last_payment_error=error,
                                     amount=world.order.amount.amount_minor))
    verdict = fx.event(webhook, intent, event_id="evt_3ds_verdict")
    assert await world.callbacks.handle("stripe", *signed(verdict)) is CallbackOutcome.APPLIED
    order, status, _, failure = await world.state()
    assert (order, status, failure) == (order_status, attempt_status, code)
    assert await world.callbacks.handle("stripe", *signed(verdict)) is CallbackOutcome.DUPLICATE

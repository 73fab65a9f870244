"""Contract: every parameter the Stripe adapter sends exists in the pinned API version.

The allowed parameters are not written down here: they are read from the request params
TypedDicts of the `stripe` package pinned in the dev dependencies (stripe.params.*), which
Stripe generates from its OpenAPI spec for that package's API version. The adapter's real
requests are captured with respx and each form or query parameter is walked down its
endpoint's type (tests/integration/providers/stripe_params.py). Bumping the package moves
both the version the adapter pins and the types it is checked against, so this test names
each parameter the new version no longer takes.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
import stripe as stripe_sdk
from stripe import params as sdk_params

from app.adapters.providers.stripe import STRIPE_API_VERSION, StripeProvider, StripeSettings
from app.domain.model.card import CardToken
from app.domain.model.money import Money
from tests.integration.providers import stripe_fixtures as fx
from tests.integration.providers.builders import ATTEMPT_ID, card, payment_request, refund_request
from tests.integration.providers.stripe_params import unknown_parameters

BASE = "https://api.stripe.test"

# Each endpoint the adapter calls -> the SDK's parameter type for it. A request to an
# endpoint missing here fails the test: a new call must name its parameter type.
ENDPOINT_PARAMS: list[tuple[str, re.Pattern[str], type]] = [
    ("POST", re.compile(r"^/v1/payment_intents$"), sdk_params.PaymentIntentCreateParams),
    ("POST", re.compile(r"^/v1/payment_intents/[^/]+/confirm$"), sdk_params.PaymentIntentConfirmParams),
    ("GET", re.compile(r"^/v1/payment_intents/search$"), sdk_params.PaymentIntentSearchParams),
    ("GET", re.compile(r"^/v1/payment_intents/[^/]+$"), sdk_params.PaymentIntentRetrieveParams),
    ("POST", re.compile(r"^/v1/refunds$"), sdk_params.RefundCreateParams),
]


def params_type_for(request: httpx.Request) -> type:
    for method, path, params_type in ENDPOINT_PARAMS:
        if request.method == method and path.match(request.url.path):
            return params_type
    raise AssertionError(f"no stripe.params type is mapped for {request.method} {request.url.path}")


def parameters_of(request: httpx.Request) -> list[tuple[str, str]]:
    body = parse_qsl(request.content.decode(), keep_blank_values=True) if request.content else []
    return [*request.url.params.multi_items(), *body]


async def requests_the_adapter_sends() -> list[httpx.Request]:
    """Every kind of request the adapter makes, captured as it sends them."""
    with respx.mock(base_url=BASE) as api:
        api.post("/v1/payment_intents").respond(200, json=fx.payment_intent())
        api.post("/v1/refunds").respond(200, json=fx.refund())
        api.get("/v1/payment_intents/search").respond(200, json=fx.search_result(fx.payment_intent()))
        api.get(f"/v1/payment_intents/{fx.PI_ID}").respond(200, json=fx.payment_intent())
        async with httpx.AsyncClient() as client:
            stripe = StripeProvider(StripeSettings(secret_key="sk_test_x", api_base=BASE), client)
            await stripe.purchase(payment_request(CardToken("pm_card_visa"), description="Order 42",
                                                  return_url="https://shop.example/back?order=42"))
            await stripe.purchase(payment_request(card("4000000000003220")))  # no return_url
            await stripe.refund(refund_request(fx.PI_ID, 500))
            await stripe.get_status(ATTEMPT_ID, fx.PI_ID)
            await stripe.get_status(ATTEMPT_ID, None, Money(2000, "USD"))
        return [call.request for call in api.calls]


def test_the_adapter_pins_the_api_version_of_the_pinned_sdk():
    assert STRIPE_API_VERSION == stripe_sdk.api_version
    assert StripeSettings(secret_key="sk_test_x").api_version == stripe_sdk.api_version


async def test_every_parameter_sent_exists_in_the_pinned_version():
    sent = await requests_the_adapter_sends()
    assert len(sent) == 5
    problems = {f"{r.method} {r.url.path}": unknown_parameters(params_type_for(r), parameters_of(r)) for r in sent}
    assert all(not wrong for wrong in problems.values()), problems
    assert {r.headers["stripe-version"] for r in sent} == {stripe_sdk.api_version}


@pytest.mark.parametrize(("params_type", "sent", "rejected"), [
    # What the adapter sent before the endive versions: the contract would have caught it.
    (sdk_params.PaymentIntentCreateParams, [("payment_method_types[0]", "card")], ["payment_method_types[0]=card"]),
    (sdk_params.PaymentIntentCreateParams, [("automatic_payment_methods[allow_redirect]", "never")],
     ["automatic_payment_methods[allow_redirect]=never"]),  # a misspelt nested name
    (sdk_params.PaymentIntentCreateParams, [("confirm", "yes"), ("amount", "12.50")], ["confirm=yes", "amount=12.50"]),
    (sdk_params.PaymentIntentCreateParams, [("capture_method", "manual"), ("metadata[any_key]", "x"),
                                            ("allowed_payment_method_types[0]", "card"),
                                            ("automatic_payment_methods[enabled]", "true")], []),
    (sdk_params.PaymentIntentCreateParams, [("metadata", "x"), ("api_key", "sk_test_x")],
     ["metadata=x", "api_key=sk_test_x"]),  # a hash as a scalar; request options are no parameters
    (sdk_params.RefundCreateParams, [("origin", "customer_balance"), ("origin", "card")], ["origin=card"]),
    (sdk_params.PaymentIntentSearchParams, [("query", "status:'succeeded'"), ("page", "x"), ("filter", "x")],
     ["filter=x"]),
])
def test_the_contract_rejects_what_the_version_does_not_take(params_type, sent, rejected):
    assert unknown_parameters(params_type, sent) == rejected

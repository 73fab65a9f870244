"""Stripe adapter: PaymentIntents created and confirmed in one call, Refunds, signed webhooks.

Requests are form-encoded (docs.stripe.com/api), authenticated with the secret key as a
Bearer token, pinned to one API version (`Stripe-Version`, STRIPE_API_VERSION unless
configured otherwise) and carry `Idempotency-Key` = our attempt/refund id, so a retried
call can never charge or refund twice (Stripe replays the first answer for 24 h). What
each request carries for that version is in `stripe_requests.py`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Literal
from urllib.parse import quote

import httpx
import msgspec

from app.adapters.providers.http import ProviderHttp, decode_object, lowercase_headers
from app.adapters.providers.stripe_events import event_from_stripe
from app.adapters.providers.stripe_mapping import (
    result_from_error, result_from_intent, result_from_refund, result_from_search,
)
from app.adapters.providers.stripe_requests import payment_intent_form, refund_form, search_query
from app.adapters.providers.stripe_signature import verify_stripe_signature
from app.adapters.providers.stripe_test_cards import payment_method_for_test_card
from app.domain.errors import MalformedCallback
from app.domain.model.card import CardDetails, CardToken, PaymentMethod
from app.domain.model.money import Money
from app.domain.model.payment import FailureCode
from app.domain.model.provider import Outcome, PaymentRequest, ProviderEvent, ProviderResult, RefundRequest


# The Stripe API version this adapter's requests and mappings are written and tested for:
# the version of the `stripe` package pinned in the dev dependencies (a test ties the two).
STRIPE_API_VERSION = "2026-10-28.endive"


class StripeSettings(msgspec.Struct, frozen=True):
    secret_key: str
    webhook_secrets: list[str] = []  # several while a signing secret is being rolled
    api_base: str = "https://api.stripe.com"
    timeout_s: float = 10.0
    tolerance_s: int = 300
    mode: Literal["test", "live"] = "test"
    api_version: str = STRIPE_API_VERSION  # sent as Stripe-Version on every request

    def __repr__(self) -> str:  # settings end up in logs; the keys must not
        return f"StripeSettings(api_base={self.api_base!r}, mode={self.mode!r}, secret_key=***)"


class StripeProvider:
    name = "stripe"
    needs_payment_method = True

    def __init__(self, settings: StripeSettings, client: httpx.AsyncClient | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._http = ProviderHttp(self.name, settings.api_base, settings.timeout_s, client)
        self._clock = clock

    async def aclose(self) -> None:
        await self._http.aclose()

    async def purchase(self, request: PaymentRequest) -> ProviderResult:
        method = self._payment_method(request.payment_method)
        if isinstance(method, ProviderResult):
            return method
        form = payment_intent_form(request, method)
        response = await self._http.request("POST", "/v1/payment_intents", data=form,
                                            headers=self._headers(request.attempt_id))
        if response.status_code == 200:
            return result_from_intent(self._http.json(response))
        return result_from_error(response.status_code, decode_object(response.content))

    async def refund(self, request: RefundRequest) -> ProviderResult:
        if not request.provider_reference:
            return ProviderResult(Outcome.FAILED, None, FailureCode.INVALID_REQUEST,
                                  "no Stripe PaymentIntent is known for this payment")
        response = await self._http.request("POST", "/v1/refunds", data=refund_form(request),
                                            headers=self._headers(request.refund_id))
        if response.status_code == 200:
            return result_from_refund(self._http.json(response))
        return result_from_error(response.status_code, decode_object(response.content))

    async def get_status(self, attempt_id: uuid.UUID, provider_reference: str | None,
                         amount: Money | None = None) -> ProviderResult:
        """By id when we have it; otherwise through the Search API on our metadata."""
        if provider_reference:
            path = f"/v1/payment_intents/{quote(provider_reference, safe='')}"
            response = await self._http.request("GET", path, headers=self._headers())
            if response.status_code != 200:  # a failed lookup says nothing about the payment
                return _lookup_failed(response, provider_reference)
            return result_from_intent(self._http.json(response))
        if amount is None:  # nothing to check a search result against: trust none
            return ProviderResult(Outcome.UNKNOWN, None, failure_message="no amount to verify a search result with")
        response = await self._http.request("GET", "/v1/payment_intents/search", params=search_query(attempt_id),
                                            headers=self._headers())
        if response.status_code != 200:
            return _lookup_failed(response, None)
        return result_from_search(self._http.json(response), attempt_id, amount)

    async def parse_callback(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        signature = lowercase_headers(headers).get("stripe-signature")
        verify_stripe_signature(signature, body, self._settings.webhook_secrets,
                                self._settings.tolerance_s, self._clock())
        event = decode_object(body)
        if event is None:
            raise MalformedCallback("Stripe event body is not a JSON object")
        return event_from_stripe(event)

    def _headers(self, idempotency_key: uuid.UUID | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._settings.secret_key}",
                   "Stripe-Version": self._settings.api_version}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = str(idempotency_key)
        return headers

    def _payment_method(self, method: PaymentMethod) -> str | ProviderResult:
        """A PaymentMethod id to confirm with, or the refusal to send."""
        if isinstance(method, CardToken):
            return method.token
        if not isinstance(method, CardDetails):
            reason = "Stripe needs a card or a card token"
        elif self._settings.mode == "live":
            reason = "raw card numbers are never sent to Stripe in live mode; use a vaulted token"
        elif (test_method := payment_method_for_test_card(method)) is not None:
            return test_method
        else:
            reason = "no Stripe test PaymentMethod stands for this card"
        return ProviderResult(Outcome.FAILED, None, FailureCode.INVALID_REQUEST, reason)


def _lookup_failed(response: httpx.Response, reference: str | None) -> ProviderResult:
    return ProviderResult(Outcome.UNKNOWN, reference, failure_message=f"status lookup answered {response.status_code}")

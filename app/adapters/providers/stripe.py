"""Stripe adapter: PaymentIntents created and confirmed in one call, Refunds, signed webhooks.

Requests are form-encoded (docs.stripe.com/api), authenticated with the secret key as a
Bearer token, and carry `Idempotency-Key` = our attempt/refund id, so a retried call can
never charge or refund twice (Stripe replays the first answer for 24 h).
`payment_method_types[0]=card` keeps the intent card-only, which is what lets a
server-side `confirm=true` go without a `return_url` (automatic payment methods would
demand one); a `return_url` is still passed when we have one, so 3-D Secure can redirect.
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
from app.adapters.providers.stripe_mapping import result_from_error, result_from_intent, result_from_refund
from app.adapters.providers.stripe_signature import verify_stripe_signature
from app.adapters.providers.stripe_test_cards import payment_method_for_test_card
from app.domain.errors import MalformedCallback
from app.domain.model.card import CardDetails, CardToken, PaymentMethod
from app.domain.model.payment import FailureCode
from app.domain.model.provider import Outcome, PaymentRequest, ProviderEvent, ProviderResult, RefundRequest


class StripeSettings(msgspec.Struct, frozen=True):
    secret_key: str
    webhook_secrets: list[str] = []  # several while a signing secret is being rolled
    api_base: str = "https://api.stripe.com"
    timeout_s: float = 10.0
    tolerance_s: int = 300
    mode: Literal["test", "live"] = "test"
    api_version: str | None = None  # sent as Stripe-Version; None: the account's default

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
        form = {
            "amount": str(request.amount.amount_minor),  # Stripe's "smallest currency unit"
            "currency": request.amount.currency.lower(),
            "confirm": "true",
            "payment_method": method,
            "payment_method_types[0]": "card",
            "metadata[attempt_id]": str(request.attempt_id),
            "metadata[order_id]": str(request.order_id),
            "metadata[merchant_id]": str(request.merchant_id),
        }
        if request.description:
            form["description"] = request.description
        if request.return_url:
            form["return_url"] = request.return_url
        response = await self._http.request("POST", "/v1/payment_intents", data=form,
                                            headers=self._headers(request.attempt_id))
        if response.status_code == 200:
            return result_from_intent(self._http.json(response))
        return result_from_error(response.status_code, decode_object(response.content))

    async def refund(self, request: RefundRequest) -> ProviderResult:
        if not request.provider_reference:
            return ProviderResult(Outcome.FAILED, None, FailureCode.INVALID_REQUEST,
                                  "no Stripe PaymentIntent is known for this payment")
        form = {
            "payment_intent": request.provider_reference,
            "amount": str(request.amount.amount_minor),
            "metadata[refund_id]": str(request.refund_id),
            "metadata[attempt_id]": str(request.attempt_id),
        }
        response = await self._http.request("POST", "/v1/refunds", data=form,
                                            headers=self._headers(request.refund_id))
        if response.status_code == 200:
            return result_from_refund(self._http.json(response))
        return result_from_error(response.status_code, decode_object(response.content))

    async def get_status(self, attempt_id: uuid.UUID, provider_reference: str | None) -> ProviderResult:
        """By id when we have it; otherwise through the Search API on our metadata. Search
        lags writes by up to a minute, so "not found" stays UNKNOWN rather than FAILED."""
        if provider_reference:
            path = f"/v1/payment_intents/{quote(provider_reference, safe='')}"
            response = await self._http.request("GET", path, headers=self._headers())
        else:
            query = f"metadata['attempt_id']:'{attempt_id}'"
            response = await self._http.request("GET", "/v1/payment_intents/search", params={"query": query},
                                                headers=self._headers())
        if response.status_code != 200:  # a failed lookup says nothing about the payment
            return ProviderResult(Outcome.UNKNOWN, provider_reference,
                                  failure_message=f"status lookup answered {response.status_code}")
        body = self._http.json(response)
        if provider_reference:
            return result_from_intent(body)
        found = [item for item in body.get("data") or [] if isinstance(item, dict)]
        if not found:
            return ProviderResult(Outcome.UNKNOWN, None, failure_message="no PaymentIntent found for this attempt")
        return result_from_intent(found[0])

    async def parse_callback(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        signature = lowercase_headers(headers).get("stripe-signature")
        verify_stripe_signature(signature, body, self._settings.webhook_secrets,
                                self._settings.tolerance_s, self._clock())
        event = decode_object(body)
        if event is None:
            raise MalformedCallback("Stripe event body is not a JSON object")
        return event_from_stripe(event)

    def _headers(self, idempotency_key: uuid.UUID | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._settings.secret_key}"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = str(idempotency_key)
        if self._settings.api_version:
            headers["Stripe-Version"] = self._settings.api_version
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

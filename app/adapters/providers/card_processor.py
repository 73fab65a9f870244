"""Card-processor adapter: a Visa/Mastercard-style acquirer API, defined here.

API (JSON over HTTPS, `Authorization: Bearer <api_key>`, amounts in minor units):

  POST /v1/authorizations        Idempotency-Key: <attempt id>
    {"reference": "<attempt id>", "order_reference": "<order id>", "capture": true,
     "amount": {"value": 1999, "currency": "USD"}, "description": "...",
     "card": {"token": "<processor token>"}   or   "card": {"number", "exp_month", "exp_year", "cvc"?}
     Live mode sends numbers only of FusionXPay vault cards (`card_…` tokens), which the
     vault opens inside this call; raw numbers straight from a request only in test mode.
     "cvc" is left out for a saved card whose CVC has expired from the cache (card on file).
    200/201 -> {"id": "auth_...", "reference", "status": "approved"|"declined"|"pending",
                "response_code": "00", "response_message": "Approved",
                "authorization_code": "A1B2C3", "captured": true, "amount": {...}}
  GET  /v1/authorizations/{id}   -> the authorization
  GET  /v1/authorizations?reference=<attempt id> -> {"data": [authorization, ...]}
  POST /v1/refunds               Idempotency-Key: <refund id>
    {"authorization_id": "auth_...", "reference": "<refund id>",
     "payment_reference": "<attempt id>", "amount": {...}}
    200/201 -> {"id": "rf_...", "status": "succeeded"|"failed"|"pending", "response_code", ...}
  4xx -> {"error": {"code": "invalid_request", "message": "...", "field": "amount"}}
  A decline is a 200 with status "declined": the network answered.
  response_code (ISO 8583): 00 approved, 09 in progress, 05/57/61/62 do not honour,
  51 insufficient funds, 54 expired card, 82/N7 CVV, 14 bad number, 41/43 lost/stolen,
  59/34 suspected fraud, 1A/65 authentication required, 91/96 issuer/system error.
  Requests are processed synchronously, so a lookup by reference after the call's
  deadline is authoritative: not found means never received.

  Test cards: 4242424242424242 -> 00, 4000000000000002 -> 05, 4000000000009995 -> 51,
  4000000000000069 -> 54, 4000000000000119 -> 96.

Callbacks: `{"id": "evt_...", "type": "authorization.approved" | "authorization.declined"
| "refund.succeeded" | "refund.failed" | ..., "created": <unix>, "data": <object>}`
with headers `X-Processor-Timestamp: <unix seconds>` and `X-Processor-Signature:
sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>`, 300 s tolerance.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import quote

import httpx
import msgspec

from app.adapters.providers.card_processor_mapping import (
    event_from_callback, is_attempts_authorization, result_from_authorization, result_from_error,
    result_from_transaction, verify_signature,
)
from app.adapters.providers.http import JsonObject, ProviderHttp, decode_object, own_search_results
from app.domain.errors import MalformedCallback
from app.domain.model.card import CardDetails, CardToken
from app.domain.model.money import Money
from app.domain.model.payment import FailureCode
from app.domain.model.provider import Outcome, PaymentRequest, ProviderEvent, ProviderResult, RefundRequest


class CardProcessorSettings(msgspec.Struct, frozen=True):
    api_key: str
    webhook_secrets: list[str] = []
    api_base: str = "https://api.card-processor.example"
    timeout_s: float = 10.0
    tolerance_s: int = 300
    mode: Literal["test", "live"] = "test"  # live: vault tokens only, never raw card numbers

    def __repr__(self) -> str:
        return f"CardProcessorSettings(api_base={self.api_base!r}, mode={self.mode!r}, api_key=***)"


class CardProcessorProvider:
    name = "card"
    needs_payment_method = True

    def __init__(self, settings: CardProcessorSettings, client: httpx.AsyncClient | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._http = ProviderHttp(self.name, settings.api_base, settings.timeout_s, client)
        self._clock = clock

    async def aclose(self) -> None:
        await self._http.aclose()

    async def purchase(self, request: PaymentRequest) -> ProviderResult:
        card = self._card(request.payment_method)
        if isinstance(card, ProviderResult):
            return card
        body: dict[str, Any] = {
            "reference": str(request.attempt_id), "order_reference": str(request.order_id), "capture": True,
            "amount": {"value": request.amount.amount_minor, "currency": request.amount.currency}, "card": card,
        }
        if request.description:
            body["description"] = request.description
        return await self._write("/v1/authorizations", request.attempt_id, body, result_from_authorization)

    async def refund(self, request: RefundRequest) -> ProviderResult:
        if not request.provider_reference:
            return ProviderResult(Outcome.FAILED, None, FailureCode.INVALID_REQUEST, "no authorization to refund")
        body = {"authorization_id": request.provider_reference, "reference": str(request.refund_id),
                "payment_reference": str(request.attempt_id),
                "amount": {"value": request.amount.amount_minor, "currency": request.amount.currency}}
        return await self._write("/v1/refunds", request.refund_id, body, result_from_transaction)

    async def get_status(self, attempt_id: uuid.UUID, provider_reference: str | None,
                         amount: Money | None = None) -> ProviderResult:
        if provider_reference:
            path = f"/v1/authorizations/{quote(provider_reference, safe='')}"
            response = await self._http.request("GET", path, headers=self._headers())
        elif amount is None:  # nothing to check what the search finds against: trust none
            return ProviderResult(Outcome.UNKNOWN, None, failure_message="no amount to verify a search result with")
        else:
            response = await self._http.request("GET", "/v1/authorizations", params={"reference": str(attempt_id)},
                                                headers=self._headers())
        if response.status_code != 200:
            return ProviderResult(Outcome.UNKNOWN, provider_reference,
                                  failure_message=f"status lookup answered {response.status_code}")
        body = self._http.json(response)
        if provider_reference or amount is None:
            return result_from_authorization(body)
        ours, strangers = own_search_results(self.name, body, attempt_id,
                                             lambda found: is_attempts_authorization(found, attempt_id, amount))
        if ours:
            return result_from_authorization(ours[0])
        if strangers:  # something carries our reference but is not what we sent: no conclusion
            return ProviderResult(Outcome.UNKNOWN, None, failure_message="the lookup found no matching authorization")
        # Authoritative for this API: the authorization never arrived.
        return ProviderResult(Outcome.FAILED, None, FailureCode.PROVIDER_UNAVAILABLE,
                              "the processor never received this authorization")

    async def parse_callback(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        verify_signature(headers, body, self._settings.webhook_secrets, self._settings.tolerance_s, self._clock())
        event = decode_object(body)
        if event is None:
            raise MalformedCallback("card processor event is not a JSON object")
        return event_from_callback(event)

    async def _write(self, path: str, idempotency_key: uuid.UUID, body: dict[str, Any],
                     verdict: Callable[[JsonObject], ProviderResult]) -> ProviderResult:
        response = await self._http.request("POST", path, content=msgspec.json.encode(body),
                                            headers=self._headers(idempotency_key))
        if response.status_code in (200, 201):
            return verdict(self._http.json(response))
        return result_from_error(response.status_code, decode_object(response.content))

    def _headers(self, idempotency_key: uuid.UUID | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._settings.api_key}", "Content-Type": "application/json"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = str(idempotency_key)
        return headers

    def _card(self, method: object) -> dict[str, Any] | ProviderResult:
        if isinstance(method, CardToken):
            return {"token": method.token}
        if isinstance(method, CardDetails) and (method.from_vault or self._settings.mode == "test"):
            card: dict[str, Any] = {"number": method.number, "exp_month": method.exp_month,
                                    "exp_year": method.exp_year}
            if method.cvc:  # a saved card's CVC is gone after its first payment (card on file)
                card["cvc"] = method.cvc
            return card
        reason = ("raw card numbers need the vault in live mode" if isinstance(method, CardDetails)
                  else "the card processor needs a card or a card token")
        return ProviderResult(Outcome.FAILED, None, FailureCode.INVALID_REQUEST, reason)

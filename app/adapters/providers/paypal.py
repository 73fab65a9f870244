"""PayPal adapter: Orders v2 (intent CAPTURE), captures and refunds of Payments v2.

A purchase creates an order and answers PENDING with the link where the shopper
approves it. The capture happens when we learn of the approval: in parse_callback for
CHECKOUT.ORDER.APPROVED and in get_status for an APPROVED order, so the event/result
carries the capture's outcome. Every write carries `PayPal-Request-Id` (idempotency):
the attempt id for the order, "<attempt id>-capture" for its capture, the refund id
for a refund. Our provider_reference for a PayPal payment is always the order id.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx
import msgspec

from app.adapters.providers import paypal_mapping as mapping
from app.adapters.providers.http import ProviderHttp, decode_object
from app.adapters.providers.paypal_auth import PayPalAccessTokens
from app.adapters.providers.paypal_events import PayPalEventMapper
from app.adapters.providers.paypal_webhooks import verify_webhook
from app.domain.model.money import Money
from app.domain.model.payment import FailureCode
from app.domain.model.provider import Outcome, PaymentRequest, ProviderEvent, ProviderResult, RefundRequest


class PayPalSettings(msgspec.Struct, frozen=True):
    client_id: str
    client_secret: str
    webhook_id: str
    api_base: str = "https://api-m.sandbox.paypal.com"
    timeout_s: float = 10.0
    return_url: str = ""  # where PayPal sends the shopper back; a request's own return_url wins
    cancel_url: str = ""  # where a shopper who cancels goes; a request's own return_url wins
    tolerance_s: int | None = 300  # on PAYPAL-TRANSMISSION-TIME; None: PayPal's check only

    def __repr__(self) -> str:
        return f"PayPalSettings(api_base={self.api_base!r}, client_id={self.client_id!r}, client_secret=***)"


class PayPalProvider:
    name = "paypal"
    needs_payment_method = False  # the shopper approves the payment on PayPal's page

    def __init__(self, settings: PayPalSettings, client: httpx.AsyncClient | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._settings = settings
        self._http = ProviderHttp(self.name, settings.api_base, settings.timeout_s, client)
        self._tokens = PayPalAccessTokens(self._http, settings.client_id, settings.client_secret)
        self._events = PayPalEventMapper(self.capture)
        self._clock = clock

    async def aclose(self) -> None:
        await self._http.aclose()

    async def purchase(self, request: PaymentRequest) -> ProviderResult:
        if request.payment_method is not None:
            return ProviderResult(Outcome.FAILED, None, FailureCode.INVALID_REQUEST,
                                  "PayPal collects the payment method itself; send none")
        try:
            amount = mapping.paypal_amount(request.amount)
        except ValueError as exc:
            return ProviderResult(Outcome.FAILED, None, FailureCode.INVALID_REQUEST, str(exc))
        unit: dict[str, Any] = {"reference_id": str(request.order_id), "custom_id": str(request.attempt_id),
                                "invoice_id": str(request.attempt_id), "amount": amount}
        if request.description:
            unit["description"] = request.description[:127]
        context = {"user_action": "PAY_NOW", "shipping_preference": "NO_SHIPPING"}
        # The shopper comes back to the merchant's return_url whether they approved or
        # cancelled: the verdict reaches the merchant through us (webhook, GET /payments/{id}).
        for key, url in (("return_url", request.return_url or self._settings.return_url),
                         ("cancel_url", request.return_url or self._settings.cancel_url)):
            if url:
                context[key] = url
        order = {"intent": "CAPTURE", "purchase_units": [unit],
                 "payment_source": {"paypal": {"experience_context": context}}}
        response = await self._api("POST", "/v2/checkout/orders", str(request.attempt_id), order)
        if response.status_code in (200, 201):
            return mapping.result_from_order(self._http.json(response))
        return mapping.result_from_error(response.status_code, decode_object(response.content))

    async def capture(self, order_id: str, attempt_id: uuid.UUID | None) -> ProviderResult:
        """Capture an approved order; an already captured one is read back instead."""
        request_id = f"{attempt_id or order_id}-capture"
        path = f"/v2/checkout/orders/{quote(order_id, safe='')}"
        response = await self._api("POST", f"{path}/capture", request_id)
        if response.status_code in (200, 201):
            return mapping.result_from_order(self._http.json(response))
        body = decode_object(response.content)
        if mapping.error_issue(body) == "ORDER_ALREADY_CAPTURED":
            return await self._order_status(order_id, capture_if_approved=False)
        return mapping.result_from_error(response.status_code, body, order_id)

    async def refund(self, request: RefundRequest) -> ProviderResult:
        order_id = request.provider_reference
        if not order_id:
            return ProviderResult(Outcome.FAILED, None, FailureCode.INVALID_REQUEST, "no PayPal order is known")
        response = await self._api("GET", f"/v2/checkout/orders/{quote(order_id, safe='')}")
        capture = mapping.first_capture(self._http.json(response)) if response.status_code == 200 else None
        if capture is None or not isinstance(capture.get("id"), str):
            return ProviderResult(Outcome.FAILED, None, FailureCode.INVALID_REQUEST,
                                  f"PayPal order has no capture to refund ({response.status_code})")
        body = {"amount": mapping.paypal_amount(request.amount), "custom_id": str(request.refund_id),
                "invoice_id": str(request.refund_id)}
        path = f"/v2/payments/captures/{quote(capture['id'], safe='')}/refund"
        response = await self._api("POST", path, str(request.refund_id), body)
        if response.status_code in (200, 201):
            return mapping.result_from_refund(self._http.json(response))
        return mapping.result_from_error(response.status_code, decode_object(response.content))

    async def get_status(self, attempt_id: uuid.UUID, provider_reference: str | None,
                         amount: Money | None = None) -> ProviderResult:
        """PayPal cannot search orders by custom_id: without the order id we cannot tell."""
        if not provider_reference:
            return ProviderResult(Outcome.UNKNOWN, None, failure_message="no PayPal order id to look up")
        return await self._order_status(provider_reference, capture_if_approved=True, attempt_id=attempt_id)

    async def parse_callback(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        event = await verify_webhook(headers, body, self._settings.webhook_id, self._clock(),
                                     self._settings.tolerance_s, self._verify_call)
        return await self._events.to_event(event)

    async def _order_status(self, order_id: str, capture_if_approved: bool,
                            attempt_id: uuid.UUID | None = None) -> ProviderResult:
        response = await self._api("GET", f"/v2/checkout/orders/{quote(order_id, safe='')}")
        if response.status_code == 404:  # orders left unapproved expire and disappear
            return ProviderResult(Outcome.FAILED, order_id, FailureCode.PAYER_ACTION_DENIED,
                                  "PayPal no longer knows this order (never approved)")
        if response.status_code != 200:
            return ProviderResult(Outcome.UNKNOWN, order_id, failure_message=f"order lookup {response.status_code}")
        order = self._http.json(response)
        if capture_if_approved and order.get("status") == "APPROVED":
            return await self.capture(order_id, attempt_id)
        return mapping.result_from_order(order)

    async def _verify_call(self, payload: bytes) -> httpx.Response:
        return await self._api("POST", "/v1/notifications/verify-webhook-signature", None, content=payload)

    async def _api(self, method: str, path: str, request_id: str | None = None, json: Any = None,
                   content: bytes | None = None) -> httpx.Response:
        """One API call with a Bearer token; a 401 (token revoked or expired early) refreshes
        the token once and repeats the call, which PayPal-Request-Id makes safe."""
        for _ in range(2):  # the first try, and one more after a token refresh
            token = await self._tokens.get()
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                       "Prefer": "return=representation"}
            if request_id:
                headers["PayPal-Request-Id"] = request_id
            payload = content if content is not None else (msgspec.json.encode(json) if json is not None else b"")
            response = await self._http.request(method, path, content=payload, headers=headers,
                                                reject_unauthorized=False)
            if response.status_code != 401:
                break
            self._tokens.invalidate(token)
        if response.status_code in (401, 403):
            self._http.raise_credentials_rejected(response, f"{method} {path}")
        return response

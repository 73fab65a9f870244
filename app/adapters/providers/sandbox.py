"""Adapter for the project's sandbox card gateway, speaking its documented HTTP protocol
(sandbox_gateway/README.md) like any third-party provider: it shares no code with the
gateway, only the protocol.

Requests carry `Authorization: Bearer <api_key>` (the gateway serves no one else) and our
attempt id (refund id) as the idempotency key, so a retried purchase can never charge
twice and a lost answer is recovered by looking the key up. Callbacks are verified with
HMAC-SHA256 over f"{timestamp}.{raw body}" (`X-Sandbox-Signature: v1=<hex>`, 5 min
tolerance). Every payment answer reports what the gateway says it charged (amount,
currency, the key and metadata it bound), which the domain checks against the attempt."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import msgspec

from app.adapters.providers.http import ProviderHttp, lowercase_headers
from app.adapters.providers.sandbox_wire import GatewayEvent, GatewayObject, reported, result_of
from app.domain.errors import InvalidCallback, MalformedCallback
from app.domain.model.card import CardDetails, CardToken
from app.domain.model.money import Money
from app.domain.model.payment import FailureCode
from app.domain.model.provider import (CallbackKind, Outcome, PaymentRequest, ProviderEvent, ProviderResult,
                                       RefundRequest)

TIMESTAMP_HEADER = "x-sandbox-timestamp"
SIGNATURE_HEADER = "x-sandbox-signature"

_EVENT_KINDS: dict[str, tuple[CallbackKind, Outcome]] = {
    "payment.succeeded": (CallbackKind.PAYMENT, Outcome.SUCCEEDED),
    "payment.failed": (CallbackKind.PAYMENT, Outcome.FAILED),
    "payment.processing": (CallbackKind.PAYMENT, Outcome.PENDING),
    "refund.succeeded": (CallbackKind.REFUND, Outcome.SUCCEEDED),
    "refund.failed": (CallbackKind.REFUND, Outcome.FAILED),
}


class SandboxSettings(msgspec.Struct, frozen=True, kw_only=True):
    base_url: str  # e.g. http://127.0.0.1:8100
    callback_secret: str  # shared with the gateway (SANDBOX_CALLBACK_SECRET)
    callback_url: str  # our public POST /callbacks/sandbox
    api_key: str = "sandbox_dev_api_key"  # the gateway's SANDBOX_API_KEY; `make run` generates one
    timeout_s: float = 5.0
    signature_tolerance_s: int = 300

    def __repr__(self) -> str:  # settings end up in logs; the secrets must not
        return (f"SandboxSettings(base_url={self.base_url!r}, callback_url={self.callback_url!r}, "
                "callback_secret=***, api_key=***)")


class SandboxProvider:
    """PaymentProvider for the sandbox gateway (structural: no inheritance from the Protocol)."""

    name = "sandbox"
    needs_payment_method = True

    def __init__(self, settings: SandboxSettings, client: httpx.AsyncClient | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self._settings, self._clock = settings, clock
        self._http = ProviderHttp(self.name, settings.base_url, settings.timeout_s, client)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def purchase(self, request: PaymentRequest) -> ProviderResult:
        method = _payment_method_fields(request.payment_method)
        if method is None:
            return ProviderResult(Outcome.FAILED, failure_code=FailureCode.INVALID_REQUEST,
                                  failure_message="the sandbox gateway needs a card or a card token")
        key = str(request.attempt_id)
        body = {"amount": request.amount.amount_minor, "currency": request.amount.currency, **method,
                "idempotency_key": key, "callback_url": self._settings.callback_url,
                "description": request.description,
                "metadata": {"attempt_id": key, "order_id": str(request.order_id),
                             "merchant_id": str(request.merchant_id)}}
        if request.return_url:  # where the 3-D Secure page sends the shopper back
            body["return_url"] = request.return_url
        return result_of(await self._send("POST", "/v1/payments", json=body, idempotency_key=key))

    async def refund(self, request: RefundRequest) -> ProviderResult:
        """Refunds the capture the refund targets; without one, the payment made under the
        attempt's idempotency key (the gateway bound it: it is the attempt's own)."""
        payment_id = request.provider_reference or await self._payment_id_for(request.attempt_id)
        if payment_id is None:
            return ProviderResult(Outcome.FAILED, failure_code=FailureCode.INVALID_REQUEST,
                                  failure_message="the payment to refund is unknown to the sandbox gateway")
        key = str(request.refund_id)
        body = {"payment_id": payment_id, "amount": request.amount.amount_minor, "idempotency_key": key,
                "callback_url": self._settings.callback_url,
                "metadata": {"refund_id": key, "attempt_id": str(request.attempt_id)}}
        return result_of(await self._send("POST", "/v1/refunds", json=body, idempotency_key=key))

    async def get_status(self, attempt_id: uuid.UUID, provider_reference: str | None,
                         amount: Money | None = None) -> ProviderResult:
        """Looked up by idempotency key (the attempt id), which also finds payments whose
        purchase answer we never got. A 404 is a verdict: the purchase never reached the
        gateway, and since the key is the attempt id it can no longer charge under it.
        What is found reports its amount, currency and metadata: whether it is the
        attempt's payment is the domain's matching rule to decide (`amount` is not needed)."""
        response = await self._send("GET", "/v1/payments", params={"idempotency_key": str(attempt_id)})
        if response.status_code == 404:
            return ProviderResult(Outcome.FAILED, provider_reference, FailureCode.PROCESSING_ERROR,
                                  "the payment never reached the sandbox gateway")
        if response.is_client_error:
            return ProviderResult(Outcome.UNKNOWN, provider_reference, failure_message=f"HTTP {response.status_code}")
        return result_of(response)

    async def parse_callback(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        self._verify_signature(lowercase_headers(headers), body)
        try:
            event = msgspec.json.decode(body, type=GatewayEvent)
            kind, outcome = _EVENT_KINDS.get(event.type, (CallbackKind.IGNORED, Outcome.UNKNOWN))
            if kind is CallbackKind.IGNORED:
                return ProviderEvent(event.id, kind, ProviderResult(Outcome.UNKNOWN), event_type=event.type)
            data = msgspec.json.decode(event.data, type=GatewayObject)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise MalformedCallback(f"unreadable sandbox callback: {exc}") from exc
        result = result_of(data, outcome)
        if kind is CallbackKind.PAYMENT:
            attempt_id = _uuid_field(data.metadata.get("attempt_id") or data.idempotency_key, "attempt_id")
            return ProviderEvent(event.id, kind, reported(result, data), attempt_id=attempt_id, event_type=event.type)
        refund_id = _uuid_field(data.metadata.get("refund_id") or data.idempotency_key, "refund_id")
        attempt_ref = data.metadata.get("attempt_id")
        refunded_attempt = _uuid_field(attempt_ref, "attempt_id") if attempt_ref else None
        return ProviderEvent(event.id, kind, result, attempt_id=refunded_attempt, refund_id=refund_id,
                             event_type=event.type)

    def _verify_signature(self, headers: Mapping[str, str], body: bytes) -> None:
        timestamp = headers.get(TIMESTAMP_HEADER, "").strip()
        signatures = headers.get(SIGNATURE_HEADER, "")
        if not signatures or not (timestamp.isascii() and timestamp.isdigit()):
            raise InvalidCallback("missing or unreadable sandbox signature headers", code="invalid_signature")
        digest = hmac.new(self._settings.callback_secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
        expected = f"v1={digest.hexdigest()}".encode()
        # Several comma-separated signatures are allowed, as during a secret rotation.
        if not any(hmac.compare_digest(expected, candidate.strip().encode())
                   for candidate in signatures.split(",")):
            raise InvalidCallback("sandbox callback signature does not match", code="invalid_signature")
        if abs(self._clock() - int(timestamp)) > self._settings.signature_tolerance_s:
            raise InvalidCallback("sandbox callback timestamp is outside the tolerance", code="stale_callback")

    async def _payment_id_for(self, attempt_id: uuid.UUID) -> str | None:
        response = await self._send("GET", "/v1/payments", params={"idempotency_key": str(attempt_id)})
        if response.is_client_error:
            return None
        return msgspec.json.decode(response.content, type=GatewayObject).id

    async def _send(self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None,
                    idempotency_key: str | None = None) -> httpx.Response:
        """The gateway's answer when it is a verdict (2xx or 4xx); the shared plumbing
        raises the transport exceptions when it is not (no answer, 429, 5xx, 401/403)."""
        headers = {"Authorization": f"Bearer {self._settings.api_key}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return await self._http.request(method, path, json=json, params=params, headers=headers)


def _payment_method_fields(method: object) -> dict[str, Any] | None:
    if isinstance(method, CardDetails):
        card: dict[str, Any] = {"number": method.number, "exp_month": method.exp_month, "exp_year": method.exp_year}
        if method.cvc:  # a saved card's CVC is gone after its first payment (card on file)
            card["cvc"] = method.cvc
        return {"card": card}
    if isinstance(method, CardToken):
        return {"token": method.token}
    return None


def _uuid_field(value: str | None, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value or "")
    except ValueError as exc:
        raise MalformedCallback(f"sandbox callback has no valid {field}") from exc

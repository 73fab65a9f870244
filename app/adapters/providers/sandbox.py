"""Adapter for the project's sandbox card gateway (the `sandbox_gateway` service).

It turns the gateway's answers into ProviderResults and its failures into the transport
exceptions of app.adapters.providers.errors. Our attempt id (refund id) is the gateway's
idempotency key, so a retried purchase can never charge twice and a lost answer can be
recovered by looking the key up. Only `sandbox_gateway.signing` is shared with the
gateway, so both sides compute callback signatures identically."""

from __future__ import annotations

import hmac
import time
import uuid
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import msgspec
import structlog

from app.adapters.providers.errors import (ProviderConnectError, ProviderRateLimited, ProviderServerError,
                                           ProviderTimeout)
from app.domain.errors import InvalidCallback, MalformedCallback
from app.domain.model.card import CardDetails, CardToken
from app.domain.model.money import Money
from app.domain.model.payment import FailureCode
from app.domain.model.provider import (CallbackKind, Outcome, PaymentRequest, ProviderEvent, ProviderResult,
                                       RefundRequest)
from sandbox_gateway.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, compute_signature

log = structlog.get_logger(__name__)


class SandboxSettings(msgspec.Struct, frozen=True, kw_only=True):
    base_url: str  # e.g. http://127.0.0.1:8100
    callback_secret: str  # shared with the gateway (SANDBOX_CALLBACK_SECRET)
    callback_url: str  # our public POST /callbacks/sandbox
    timeout_s: float = 5.0
    signature_tolerance_s: int = 300

    def __repr__(self) -> str:  # settings end up in logs; the secret must not
        return f"SandboxSettings(base_url={self.base_url!r}, callback_url={self.callback_url!r}, callback_secret=***)"


class _GatewayObject(msgspec.Struct):
    """A payment or refund as the gateway shows it (fields we do not use are ignored)."""
    id: str
    status: str
    idempotency_key: str = ""
    amount: int = 0
    currency: str = ""
    failure_code: str | None = None
    failure_message: str | None = None
    metadata: dict[str, str] = {}
    redirect_url: str | None = None  # while requires_action: the 3-D Secure page


class _GatewayEvent(msgspec.Struct):
    id: str
    type: str
    created: int
    data: msgspec.Raw  # decoded once we know the event type


_STATUS_OUTCOMES = {"pending": Outcome.PENDING, "requires_action": Outcome.PENDING, "succeeded": Outcome.SUCCEEDED,
                    "failed": Outcome.FAILED}
_EVENT_KINDS: dict[str, tuple[CallbackKind, Outcome]] = {
    "payment.succeeded": (CallbackKind.PAYMENT, Outcome.SUCCEEDED),
    "payment.failed": (CallbackKind.PAYMENT, Outcome.FAILED),
    "payment.processing": (CallbackKind.PAYMENT, Outcome.PENDING),
    "refund.succeeded": (CallbackKind.REFUND, Outcome.SUCCEEDED),
    "refund.failed": (CallbackKind.REFUND, Outcome.FAILED),
}
_FAILURE_CODES = {code.value: code for code in (FailureCode.CARD_DECLINED, FailureCode.INSUFFICIENT_FUNDS,
                                                FailureCode.EXPIRED_CARD, FailureCode.PROCESSING_ERROR,
                                                FailureCode.INCORRECT_NUMBER, FailureCode.INVALID_CVC)}
_FAILURE_CODES["authentication_failed"] = FailureCode.AUTHENTICATION_REQUIRED  # 3-D Secure refused


class SandboxProvider:
    """PaymentProvider for the sandbox gateway (structural: no inheritance from the Protocol)."""

    name = "sandbox"
    needs_payment_method = True

    def __init__(self, settings: SandboxSettings, client: httpx.AsyncClient | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self._settings, self._clock = settings, clock
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_s)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

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
        return _result_of(await self._send("POST", "/v1/payments", json=body, idempotency_key=key))

    async def refund(self, request: RefundRequest) -> ProviderResult:
        payment_id = request.provider_reference or await self._payment_id_for(request.attempt_id)
        if payment_id is None:
            return ProviderResult(Outcome.FAILED, failure_code=FailureCode.INVALID_REQUEST,
                                  failure_message="the payment to refund is unknown to the sandbox gateway")
        key = str(request.refund_id)
        body = {"payment_id": payment_id, "amount": request.amount.amount_minor, "idempotency_key": key,
                "callback_url": self._settings.callback_url,
                "metadata": {"refund_id": key, "attempt_id": str(request.attempt_id)}}
        return _result_of(await self._send("POST", "/v1/refunds", json=body, idempotency_key=key))

    async def get_status(self, attempt_id: uuid.UUID, provider_reference: str | None,
                         amount: Money | None = None) -> ProviderResult:
        """Looked up by idempotency key (the attempt id), which also finds payments whose
        purchase answer we never got. A 404 is a verdict: the purchase never reached the
        gateway, and since the key is the attempt id it can no longer charge under it."""
        response = await self._send("GET", "/v1/payments", params={"idempotency_key": str(attempt_id)})
        if response.status_code == 404:
            return ProviderResult(Outcome.FAILED, provider_reference, FailureCode.PROCESSING_ERROR,
                                  "the payment never reached the sandbox gateway")
        if response.is_client_error:
            return ProviderResult(Outcome.UNKNOWN, provider_reference, failure_message=_error_text(response))
        found = _decode_object(response)
        if amount is not None and not _is_attempts(found, attempt_id, amount):
            log.warning("provider_search_result_ignored", provider=self.name, attempt_id=str(attempt_id),
                        found_id=found.id, found_amount=found.amount, found_currency=found.currency,
                        found_metadata=found.metadata)
            return ProviderResult(Outcome.UNKNOWN, provider_reference,
                                  failure_message="the payment found under this key is not the attempt's")
        return _result_of(response)

    async def parse_callback(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        self._verify_signature({k.lower(): v for k, v in headers.items()}, body)
        try:
            event = msgspec.json.decode(body, type=_GatewayEvent)
            kind, outcome = _EVENT_KINDS.get(event.type, (CallbackKind.IGNORED, Outcome.UNKNOWN))
            if kind is CallbackKind.IGNORED:
                return ProviderEvent(event.id, kind, ProviderResult(Outcome.UNKNOWN), event_type=event.type)
            data = msgspec.json.decode(event.data, type=_GatewayObject)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise MalformedCallback(f"unreadable sandbox callback: {exc}") from exc
        failure = _failure_code(data.failure_code) if outcome is Outcome.FAILED else None
        result = ProviderResult(outcome, data.id, failure, data.failure_message if failure else None)
        if kind is CallbackKind.PAYMENT:
            attempt_id = _uuid_field(data.metadata.get("attempt_id") or data.idempotency_key, "attempt_id")
            return ProviderEvent(event.id, kind, result, attempt_id=attempt_id, event_type=event.type)
        refund_id = _uuid_field(data.metadata.get("refund_id") or data.idempotency_key, "refund_id")
        attempt_ref = data.metadata.get("attempt_id")
        refunded_attempt = _uuid_field(attempt_ref, "attempt_id") if attempt_ref else None
        return ProviderEvent(event.id, kind, result, attempt_id=refunded_attempt, refund_id=refund_id,
                             event_type=event.type)

    def _verify_signature(self, headers: Mapping[str, str], body: bytes) -> None:
        timestamp = headers.get(TIMESTAMP_HEADER.lower(), "").strip()
        signatures = headers.get(SIGNATURE_HEADER.lower(), "")
        if not signatures or not (timestamp.isascii() and timestamp.isdigit()):
            raise InvalidCallback("missing or unreadable sandbox signature headers", code="invalid_signature")
        expected = compute_signature(self._settings.callback_secret, timestamp, body).encode()
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
        return _decode_object(response).id

    async def _send(self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None,
                    idempotency_key: str | None = None) -> httpx.Response:
        """The gateway's answer when it is a verdict (2xx or 4xx); raises when it is not."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        url = self._settings.base_url.rstrip("/") + path
        try:
            response = await self._client.request(method, url, json=json, params=params, headers=headers,
                                                  timeout=self._settings.timeout_s)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ProviderConnectError(self.name, f"could not connect ({type(exc).__name__})") from exc  # never sent
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(self.name, f"no answer within {self._settings.timeout_s}s") from exc
        except httpx.TransportError as exc:
            raise ProviderServerError(self.name, f"transport failed mid-request ({type(exc).__name__})") from exc
        if response.status_code == 429:
            raise ProviderRateLimited(self.name, "rate limited", _retry_after(response.headers.get("Retry-After")))
        if response.is_server_error or not (response.is_success or response.is_client_error):
            raise ProviderServerError(self.name, f"HTTP {response.status_code}", response.status_code)
        return response


def _is_attempts(found: _GatewayObject, attempt_id: uuid.UUID, amount: Money) -> bool:
    """What a look-up by key found is ours: our attempt id, amount and currency."""
    return (found.metadata.get("attempt_id") == str(attempt_id) and found.amount == amount.amount_minor
            and found.currency.upper() == amount.currency)


def _payment_method_fields(method: object) -> dict[str, Any] | None:
    if isinstance(method, CardDetails):
        return {"card": {"number": method.number, "exp_month": method.exp_month,
                         "exp_year": method.exp_year, "cvc": method.cvc}}
    if isinstance(method, CardToken):
        return {"token": method.token}
    return None


def _result_of(response: httpx.Response) -> ProviderResult:
    if response.is_client_error:  # the gateway refused the request itself: a verdict, not a retry case
        return ProviderResult(Outcome.FAILED, failure_code=FailureCode.INVALID_REQUEST,
                              failure_message=_error_text(response))
    obj = _decode_object(response)
    outcome = _STATUS_OUTCOMES.get(obj.status, Outcome.UNKNOWN)
    if outcome is Outcome.FAILED:
        return ProviderResult(outcome, obj.id, _failure_code(obj.failure_code), obj.failure_message)
    return ProviderResult(outcome, obj.id, redirect_url=obj.redirect_url)


def _decode_object(response: httpx.Response) -> _GatewayObject:
    try:
        return msgspec.json.decode(response.content, type=_GatewayObject)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ProviderServerError(SandboxProvider.name, f"unreadable answer: {exc}", response.status_code) from exc


def _error_text(response: httpx.Response) -> str:
    try:
        error = msgspec.json.decode(response.content)["error"]
        return f"sandbox rejected the request ({response.status_code} {error['code']}): {error['message']}"
    except (msgspec.DecodeError, KeyError, TypeError):
        return f"sandbox rejected the request (HTTP {response.status_code})"


def _failure_code(gateway_code: str | None) -> str:
    return _FAILURE_CODES.get(gateway_code or "", FailureCode.PROCESSING_ERROR)


def _uuid_field(value: str | None, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value or "")
    except ValueError as exc:
        raise MalformedCallback(f"sandbox callback has no valid {field}") from exc


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait, from either form of Retry-After (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None

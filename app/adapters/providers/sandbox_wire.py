"""The sandbox gateway's wire objects (sandbox_gateway/README.md) -> our normalised results."""

from __future__ import annotations

import dataclasses
import uuid

import httpx
import msgspec

from app.adapters.providers.errors import ProviderServerError
from app.domain.model.payment import FailureCode
from app.domain.model.provider import Outcome, ProviderResult, ReportedPayment

_STATUS_OUTCOMES = {"pending": Outcome.PENDING, "requires_action": Outcome.PENDING, "succeeded": Outcome.SUCCEEDED,
                    "failed": Outcome.FAILED}
_FAILURE_CODES = {code.value: code for code in (FailureCode.CARD_DECLINED, FailureCode.INSUFFICIENT_FUNDS,
                                                FailureCode.EXPIRED_CARD, FailureCode.PROCESSING_ERROR,
                                                FailureCode.INCORRECT_NUMBER, FailureCode.INVALID_CVC)}
_FAILURE_CODES["authentication_failed"] = FailureCode.AUTHENTICATION_REQUIRED  # 3-D Secure refused


class GatewayObject(msgspec.Struct):
    """A payment or refund as the gateway shows it (fields we do not use are ignored)."""
    id: str
    status: str
    object: str = "payment"
    idempotency_key: str = ""
    amount: int | None = None
    currency: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    metadata: dict[str, str] = {}
    redirect_url: str | None = None  # while requires_action: the 3-D Secure page


class GatewayEvent(msgspec.Struct):
    id: str
    type: str
    created: int
    data: msgspec.Raw  # decoded once we know the event type


def result_of(answer: httpx.Response | GatewayObject, outcome: Outcome | None = None) -> ProviderResult:
    """A verdict from an answer (a 4xx is the gateway refusing the request: FAILED, not a
    retry case) or from a callback's object (whose event type gives the outcome)."""
    if isinstance(answer, httpx.Response):
        if answer.is_client_error:
            return ProviderResult(Outcome.FAILED, failure_code=FailureCode.INVALID_REQUEST,
                                  failure_message=_error_text(answer))
        try:
            answer = msgspec.json.decode(answer.content, type=GatewayObject)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise ProviderServerError("sandbox", f"unreadable answer: {exc}") from None
    outcome = outcome or _STATUS_OUTCOMES.get(answer.status, Outcome.UNKNOWN)
    if outcome is Outcome.FAILED:
        code = _FAILURE_CODES.get(answer.failure_code or "", FailureCode.PROCESSING_ERROR)
        result = ProviderResult(outcome, answer.id, code, answer.failure_message)
    else:
        result = ProviderResult(outcome, answer.id, redirect_url=answer.redirect_url)
    return reported(result, answer) if answer.object == "payment" else result


def reported(result: ProviderResult, payment: GatewayObject) -> ProviderResult:
    """What the gateway says the payment is: its amount and currency, the idempotency key
    it bound (our attempt id when we made it, and also the attempt its metadata names) and
    the metadata it was created with."""
    bound = _uuid_or_none(payment.idempotency_key)
    tagged = _uuid_or_none(payment.metadata.get("attempt_id"))
    if bound is not None and tagged is not None and bound != tagged:
        bound = uuid.UUID(int=0)  # key and metadata name different attempts: it is neither's
    return dataclasses.replace(result, reported=ReportedPayment(
        payment.amount, payment.currency, bound,
        _uuid_or_none(payment.metadata.get("order_id")), _uuid_or_none(payment.metadata.get("merchant_id"))))


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return uuid.UUID(int=0)  # present but not one of our ids (we send UUIDs): the nil id matches nothing


def _error_text(response: httpx.Response) -> str:
    try:
        error = msgspec.json.decode(response.content)["error"]
        return f"sandbox rejected the request ({response.status_code} {error['code']}): {error['message']}"
    except (msgspec.DecodeError, KeyError, TypeError):
        return f"sandbox rejected the request (HTTP {response.status_code})"

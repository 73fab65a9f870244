"""The card processor's answers and callbacks -> our normalised results.

Response codes follow ISO 8583 field 39 as Visa/Mastercard acquirers report them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import uuid
from collections.abc import Mapping, Sequence

from app.adapters.providers.http import JsonObject, lowercase_headers
from app.domain.errors import InvalidCallback, MalformedCallback
from app.domain.model.money import Money
from app.domain.model.payment import FailureCode as F
from app.domain.model.provider import CallbackKind, Outcome, ProviderEvent, ProviderResult, ReportedPayment

APPROVED = "00"
IN_PROGRESS = "09"  # "request in progress": the verdict follows by callback

RESPONSE_CODES: dict[str, F] = {
    "05": F.CARD_DECLINED, "57": F.CARD_DECLINED, "61": F.CARD_DECLINED, "62": F.CARD_DECLINED,
    "51": F.INSUFFICIENT_FUNDS,
    "54": F.EXPIRED_CARD,
    "82": F.INVALID_CVC, "N7": F.INVALID_CVC,
    "14": F.INCORRECT_NUMBER,
    "41": F.LOST_OR_STOLEN, "43": F.LOST_OR_STOLEN,
    "59": F.FRAUD_BLOCKED, "34": F.FRAUD_BLOCKED,
    "1A": F.AUTHENTICATION_REQUIRED, "65": F.AUTHENTICATION_REQUIRED,
    "91": F.PROCESSING_ERROR, "96": F.PROCESSING_ERROR,
}

TIMESTAMP_HEADER = "x-processor-timestamp"
SIGNATURE_HEADER = "x-processor-signature"


def result_from_transaction(transaction: JsonObject) -> ProviderResult:
    """An authorization or refund object: `status` plus the network `response_code`."""
    status, code, reference = transaction.get("status"), transaction.get("response_code"), transaction.get("id")
    message = transaction.get("response_message")
    if status in ("approved", "succeeded") and code == APPROVED:
        return ProviderResult(Outcome.SUCCEEDED, reference)
    if status == "pending" or code == IN_PROGRESS:
        return ProviderResult(Outcome.PENDING, reference)
    if status in ("declined", "failed"):
        failure = RESPONSE_CODES.get(str(code), F.CARD_DECLINED)
        return ProviderResult(Outcome.FAILED, reference, failure, f"{code}: {message}" if message else str(code))
    return ProviderResult(Outcome.UNKNOWN, reference, failure_message=f"unexpected status {status!r}/{code!r}")


def is_attempts_authorization(found: JsonObject, attempt_id: uuid.UUID, amount: Money) -> bool:
    """Our reference (the attempt id) and the amount and currency we asked for."""
    sent = found.get("amount") or {}
    return (found.get("reference") == str(attempt_id) and isinstance(sent, dict)
            and sent.get("value") == amount.amount_minor and sent.get("currency") == amount.currency)


def result_from_authorization(authorization: JsonObject) -> ProviderResult:
    """An authorization's verdict with what it reports: amount, currency, our references."""
    amount = authorization.get("amount")
    value, currency = (amount.get("value"), amount.get("currency")) if isinstance(amount, dict) else (None, None)
    return dataclasses.replace(result_from_transaction(authorization), reported=ReportedPayment(
        value if isinstance(value, int) and not isinstance(value, bool) else None,
        currency.upper() if isinstance(currency, str) else None,
        _reference(authorization.get("reference")), _reference(authorization.get("order_reference"))))


def _reference(value: object) -> uuid.UUID | None:
    if value is None:
        return None
    return _uuid(value) or uuid.UUID(int=0)  # present but none of our ids: matches no attempt


def result_from_error(status_code: int, body: JsonObject | None) -> ProviderResult:
    """4xx `{"error": {"code", "message", "field"}}`: the request itself was refused."""
    error = (body or {}).get("error") or {}
    message = error.get("message") if isinstance(error.get("message"), str) else f"HTTP {status_code}"
    return ProviderResult(Outcome.FAILED, None, F.INVALID_REQUEST, message)


def verify_signature(headers: Mapping[str, str], body: bytes, secrets: Sequence[str],
                     tolerance_s: int, now: float) -> None:
    lowered = lowercase_headers(headers)
    timestamp, signature = lowered.get(TIMESTAMP_HEADER), lowered.get(SIGNATURE_HEADER, "")
    if not timestamp or not signature or not secrets:
        raise InvalidCallback("card processor callback lacks its timestamp or signature")
    given = signature.removeprefix("sha256=").encode()
    signed = timestamp.encode() + b"." + body
    if not any(hmac.compare_digest(hmac.new(s.encode(), signed, hashlib.sha256).hexdigest().encode(), given)
               for s in secrets):
        raise InvalidCallback("card processor signature does not match the payload")
    try:
        sent = int(timestamp)
    except ValueError:
        raise InvalidCallback("card processor timestamp is not a number") from None
    if abs(now - sent) > tolerance_s:
        raise InvalidCallback(f"card processor timestamp is outside the {tolerance_s}s tolerance",
                              code="stale_callback")


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def event_from_callback(event: JsonObject) -> ProviderEvent:
    event_id, event_type, data = event.get("id"), event.get("type"), event.get("data")
    if not isinstance(event_id, str) or not isinstance(event_type, str) or not isinstance(data, dict):
        raise MalformedCallback("card processor event lacks id, type or data")
    family = event_type.split(".")[0]
    our_id = _uuid(data.get("reference"))
    if family not in ("authorization", "refund") or our_id is None:
        return ProviderEvent(event_id, CallbackKind.IGNORED, ProviderResult(Outcome.UNKNOWN), event_type=event_type)
    if family == "authorization":
        return ProviderEvent(event_id, CallbackKind.PAYMENT, result_from_authorization(data), attempt_id=our_id,
                             event_type=event_type)
    result = result_from_transaction(data)
    return ProviderEvent(event_id, CallbackKind.REFUND, result, attempt_id=_uuid(data.get("payment_reference")),
                         refund_id=our_id, event_type=event_type)

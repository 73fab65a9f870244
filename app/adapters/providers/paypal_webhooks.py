"""PayPal webhook verification through PayPal's own API.

`POST /v1/notifications/verify-webhook-signature` with auth_algo, cert_url,
transmission_id, transmission_sig, transmission_time (from the PAYPAL-* headers),
our webhook_id and the webhook_event; PayPal answers `{"verification_status":
"SUCCESS" | "FAILURE"}` (developer.paypal.com/docs/api/webhooks/v1/#verify-webhook-signature).

The event is spliced into the request as the raw bytes we received: re-serialising
the parsed JSON can change number formats or key order, and PayPal checks the
signature against the exact payload.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

import httpx
import msgspec

from app.adapters.providers.http import JsonObject, decode_object, lowercase_headers
from app.domain.errors import InvalidCallback, MalformedCallback

HEADER_FIELDS = {
    "auth_algo": "paypal-auth-algo",
    "cert_url": "paypal-cert-url",
    "transmission_id": "paypal-transmission-id",
    "transmission_sig": "paypal-transmission-sig",
    "transmission_time": "paypal-transmission-time",
}

VerifyCall = Callable[[bytes], Awaitable[httpx.Response]]


def transmission_fields(headers: Mapping[str, str]) -> dict[str, str]:
    lowered = lowercase_headers(headers)
    fields = {field: lowered.get(header, "") for field, header in HEADER_FIELDS.items()}
    if missing := [HEADER_FIELDS[field] for field, value in fields.items() if not value]:
        raise InvalidCallback(f"PayPal callback lacks {', '.join(missing)}")
    return fields


def check_fresh(transmission_time: str, now: float, tolerance_s: int | None) -> None:
    try:
        sent = datetime.fromisoformat(transmission_time.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidCallback("PAYPAL-TRANSMISSION-TIME is not a date-time") from None
    if tolerance_s is not None and abs(now - sent) > tolerance_s:
        raise InvalidCallback(f"PayPal transmission is outside the {tolerance_s}s tolerance", code="stale_callback")


def verification_request(fields: dict[str, str], webhook_id: str, body: bytes) -> bytes:
    envelope = msgspec.json.encode({**fields, "webhook_id": webhook_id})
    return envelope[:-1] + b',"webhook_event":' + body.strip() + b"}"


async def verify_webhook(headers: Mapping[str, str], body: bytes, webhook_id: str, now: float,
                         tolerance_s: int | None, call: VerifyCall) -> JsonObject:
    """The verified event; InvalidCallback/MalformedCallback when it cannot be trusted.
    Transport errors of `call` propagate: the callback gets a 5xx and PayPal redelivers."""
    fields = transmission_fields(headers)
    event = decode_object(body)
    if event is None or not isinstance(event.get("id"), str) or not isinstance(event.get("event_type"), str):
        raise MalformedCallback("PayPal event is not a JSON object with id and event_type")
    check_fresh(fields["transmission_time"], now, tolerance_s)
    response = await call(verification_request(fields, webhook_id, body))
    verdict = (decode_object(response.content) or {}).get("verification_status")
    if response.status_code != 200 or verdict != "SUCCESS":
        raise InvalidCallback(f"PayPal did not verify the callback ({response.status_code}, {verdict})")
    return event

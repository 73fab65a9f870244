"""The OpenAPI `webhooks` section: every event type a merchant's endpoint receives, its
payload and the Standard Webhooks headers that sign it. The payloads are those the
domain records (app/domain/model: order, payment, refund); GET /events shows the same."""

from __future__ import annotations

from typing import Any

import msgspec

from litestar.enums import ParamType
from litestar.openapi.spec import (
    Example, OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation, Parameter, PathItem,
    RequestBody, Schema,
)

from app.domain.model.order import OrderStatus

STRING, INTEGER = Schema(type=OpenAPIType.STRING), Schema(type=OpenAPIType.INTEGER)
NULLABLE_STRING = Schema(type=[OpenAPIType.STRING, OpenAPIType.NULL])
UUID = Schema(type=OpenAPIType.STRING, format="uuid")  # type: ignore[arg-type]
ORDER_STATUS = Schema(type=OpenAPIType.STRING, enum=[str(status) for status in OrderStatus])

ORDER_SNAPSHOT = Schema(
    type=OpenAPIType.OBJECT, required=["id", "merchant_reference", "amount", "currency", "status"],
    description="The order as of the event: act on the event without fetching the order",
    properties={"id": UUID, "merchant_reference": Schema(
        type=[OpenAPIType.STRING, OpenAPIType.NULL], description="Your own reference, if you gave one"),
        "amount": Schema(type=OpenAPIType.INTEGER, description="Minor units"), "currency": STRING,
        "status": ORDER_STATUS})

ORDER_ID = "8f0c4a8e-6f0b-4b7e-9a52-0d5f3c1b2a77"
PAYMENT_ID = "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"
ORDER = {"id": ORDER_ID, "merchant_reference": "order-1042", "amount": 2500, "currency": "USD"}

# type -> (what it means, its own fields, an example of them)
EVENTS: dict[str, tuple[str, dict[str, Schema], dict[str, Any]]] = {
    "order.status_changed": (
        "The order moved to another status (payment started, paid, failed, cancelled, fulfillment started).",
        {"previous_status": ORDER_STATUS, "status": ORDER_STATUS,
         "reason": Schema(type=[OpenAPIType.STRING, OpenAPIType.NULL],
                          description="Why: a failure code, your cancel reason, insufficient_stock")},
        {"previous_status": "PAYMENT_IN_PROGRESS", "status": "PAYMENT_DONE", "reason": None,
         "order": {**ORDER, "status": "PAYMENT_DONE"}}),
    "payment.requires_action": (
        "The shopper must act (3-D Secure, PayPal approval): send them to `redirect_url`; the verdict follows.",
        {"payment_id": UUID, "provider": STRING, "redirect_url": STRING, "return_url": NULLABLE_STRING},
        {"payment_id": PAYMENT_ID, "provider": "sandbox", "redirect_url": "https://sandbox.example/3ds/abc",
         "return_url": "https://shop.example/orders/1042/paid", "order": {**ORDER, "status": "PAYMENT_IN_PROGRESS"}}),
    "payment.succeeded": (
        "The payment was captured: the order is paid.",
        {"payment_id": UUID, "provider": STRING, "amount": INTEGER, "currency": STRING},
        {"payment_id": PAYMENT_ID, "provider": "sandbox", "amount": 2500, "currency": "USD",
         "order": {**ORDER, "status": "PAYMENT_DONE"}}),
    "payment.failed": (
        "The payment failed (`failure_code`: card_declined, insufficient_funds, expired_card, fraud_blocked, "
        "authentication_required...); the order may be retried.",
        {"payment_id": UUID, "provider": STRING, "failure_code": STRING, "failure_message": NULLABLE_STRING},
        {"payment_id": PAYMENT_ID, "provider": "sandbox", "failure_code": "card_declined",
         "failure_message": "Your card was declined.", "order": {**ORDER, "status": "PAYMENT_FAILED"}}),
    "refund.succeeded": (
        "A refund went through (`purpose`: cancellation of a paid order, or the refund of stock that ran out).",
        {"refund_id": UUID, "payment_id": UUID, "amount": INTEGER, "currency": STRING, "purpose": STRING,
         "failure_code": NULLABLE_STRING},
        {"refund_id": "5e0f5a3c-7d55-4a8f-8f53-3c1f6b8f9e21", "payment_id": PAYMENT_ID, "amount": 2500,
         "currency": "USD", "purpose": "cancellation", "failure_code": None,
         "order": {**ORDER, "status": "ORDER_CANCELLED"}}),
    "refund.failed": (
        "A refund failed; it is retried on a schedule, then left to an operator.",
        {"refund_id": UUID, "payment_id": UUID, "amount": INTEGER, "currency": STRING, "purpose": STRING,
         "failure_code": NULLABLE_STRING},
        {"refund_id": "5e0f5a3c-7d55-4a8f-8f53-3c1f6b8f9e21", "payment_id": PAYMENT_ID, "amount": 2500,
         "currency": "USD", "purpose": "cancellation", "failure_code": "processing_error",
         "order": {**ORDER, "status": "ORDER_CANCELLED"}}),
    "order.fulfillment_started": (
        "A paid catalog order's stock is allocated: fulfillment starts, with the estimated delivery date.",
        {"estimated_delivery": Schema(type=OpenAPIType.STRING, format="date"),  # type: ignore[arg-type]
         "items": Schema(type=OpenAPIType.ARRAY, items=Schema(
             type=OpenAPIType.OBJECT, properties={"sku": STRING, "quantity": INTEGER}))},
        {"estimated_delivery": "2026-12-03", "items": [{"sku": "MUG-1", "quantity": 2}],
         "order": {**ORDER, "status": "FULFILLMENT_STARTED"}}),
    "order.allocation_failed": (
        "The stock ran out between payment and allocation: the payment is refunded and the order cancelled.",
        {"payment_id": UUID, "reason": STRING, "skus": Schema(type=OpenAPIType.ARRAY, items=STRING)},
        {"payment_id": PAYMENT_ID, "reason": "insufficient_stock", "skus": ["MUG-1"],
         "order": {**ORDER, "status": "PAYMENT_DONE"}}),
}

HEADERS = [
    ("webhook-id", "The event id, the same on every retry: drop duplicates by it (GET /events/{id} shows it)"),
    ("webhook-timestamp", "Unix seconds when this try was signed: refuse old ones (e.g. older than 5 minutes)"),
    ("webhook-signature", "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with your `whsec_` secret "
                          "(Standard Webhooks: verify with the `standardwebhooks` library)"),
]
DELIVERY = ("POSTed to your webhook URL, signed per Standard Webhooks. Answer 2xx within 10 s; anything else is "
            "retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 24 h with the same `webhook-id`. `410 Gone` "
            "disables your endpoint. Every try is listed by GET /events.")


def example(summary: str, value: Any) -> Example:
    """An example kept as JSON as written: Litestar's to_schema drops every null in plain
    dicts, which would leave required nullable fields out of the examples."""
    return Example(summary=summary, value=msgspec.Raw(msgspec.json.encode(value)))


def webhooks() -> dict[str, PathItem]:
    return {event_type: _path_item(event_type, *spec) for event_type, spec in EVENTS.items()}


def _path_item(event_type: str, meaning: str, fields: dict[str, Schema], sample: dict[str, Any]) -> PathItem:
    data = Schema(type=OpenAPIType.OBJECT, required=["order_id", "order", *fields],
                  properties={"order_id": UUID, "order": ORDER_SNAPSHOT, **fields})
    message = Schema(type=OpenAPIType.OBJECT, required=["id", "type", "created_at", "data"], properties={
        "id": UUID, "type": Schema(type=OpenAPIType.STRING, const=event_type),
        "created_at": Schema(type=OpenAPIType.STRING, format="date-time"),  # type: ignore[arg-type]
        "data": data})
    body = {"id": "0d3b1c8e-2f61-4c3e-8d51-6c1e2a9b7f40", "type": event_type,
            "created_at": "2026-11-26T10:00:00.123456+00:00", "data": {"order_id": ORDER_ID, **sample}}
    return PathItem(post=Operation(
        summary=event_type, description=f"{meaning}\n\n{DELIVERY}", operation_id=f"webhook_{event_type}",
        tags=["webhooks"],
        parameters=[Parameter(name=name, param_in=ParamType.HEADER, required=True, description=text, schema=STRING)
                    for name, text in HEADERS],
        request_body=RequestBody(required=True, content={"application/json": OpenAPIMediaType(
            schema=message, examples={event_type: example(event_type, body)})}),
        responses={"2XX": OpenAPIResponse(description="Received: no retry"),
                   "410": OpenAPIResponse(description="Gone: disables the endpoint (an admin re-enables it)")},
    ))


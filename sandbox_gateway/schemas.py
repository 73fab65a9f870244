"""Wire schemas of the sandbox gateway (msgspec). Requests are validated on decode;
responses and callback payloads are encoded from the same structs."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

PositiveAmount = Annotated[int, Meta(gt=0)]
CurrencyCode = Annotated[str, Meta(pattern="^[A-Za-z]{3}$")]
ReturnUrl = Annotated[str, Meta(pattern=r"^https?://[^\s]+$", max_length=2048)]  # browsers are sent there


class CardIn(msgspec.Struct, forbid_unknown_fields=True):
    number: str
    exp_month: Annotated[int, Meta(ge=1, le=12)]
    exp_year: int
    cvc: Annotated[str, Meta(pattern=r"^\d{3,4}$")] | None = None  # None: a card on file


class PaymentCreate(msgspec.Struct):
    amount: PositiveAmount
    currency: CurrencyCode
    card: CardIn | None = None
    token: str | None = None
    idempotency_key: str | None = None  # or the Idempotency-Key header
    callback_url: str | None = None
    metadata: dict[str, str] = {}
    description: str | None = None
    return_url: ReturnUrl | None = None  # where the 3-D Secure page sends the shopper afterwards


class RefundCreate(msgspec.Struct):
    payment_id: str
    amount: PositiveAmount | None = None  # None: everything still refundable
    idempotency_key: str | None = None
    callback_url: str | None = None
    metadata: dict[str, str] = {}


class PaymentMethodOut(msgspec.Struct):
    type: str  # "card" | "token"
    brand: str | None = None
    last4: str | None = None


class PaymentOut(msgspec.Struct, tag_field="object", tag="payment"):
    id: str
    idempotency_key: str
    status: str  # requires_action (3-D Secure) | pending | succeeded | failed
    amount: int
    amount_refunded: int
    currency: str
    payment_method: PaymentMethodOut
    failure_code: str | None
    failure_message: str | None
    metadata: dict[str, str]
    description: str | None
    created: int
    updated: int
    redirect_url: str | None = None  # while requires_action: the 3-D Secure page for the shopper


class RefundOut(msgspec.Struct, tag_field="object", tag="refund"):
    id: str
    payment_id: str
    idempotency_key: str
    status: str  # pending | succeeded | failed
    amount: int
    currency: str
    failure_code: str | None
    failure_message: str | None
    metadata: dict[str, str]
    created: int
    updated: int


class CallbackEvent(msgspec.Struct):
    id: str  # evt_...: the receiver's dedupe key; identical on a re-delivery
    type: str  # payment.succeeded | payment.failed | payment.processing | refund.succeeded | refund.failed
    created: int  # when the event happened (unix seconds), not when it was delivered
    data: PaymentOut | RefundOut


class ChargeSummary(msgspec.Struct):
    idempotency_key: str
    payment_id: str
    behaviour: str
    status: str
    amount: int
    currency: str
    requests: int  # how many POST /v1/payments carried this key
    charges: int  # how many times money moved for it: never more than 1


class Delivery(msgspec.Struct):
    event_id: str
    event_type: str
    url: str
    attempt: int
    status_code: int | None  # None: the receiver could not be reached
    error: str | None
    ok: bool
    delivered_at: float


class ChargeList(msgspec.Struct):
    data: list[ChargeSummary]


class DeliveryList(msgspec.Struct):
    data: list[Delivery]

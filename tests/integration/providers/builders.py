"""Requests, ids and body readers shared by the provider contract tests."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qsl

import httpx

from app.domain.model.card import CardDetails, CardToken, PaymentMethod
from app.domain.model.money import Money
from app.domain.model.provider import PaymentRequest, RefundRequest

ATTEMPT_ID = uuid.UUID("6f1c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f")
ORDER_ID = uuid.UUID("0b7e1c9a-55d2-4f0e-9a63-2c1d3e4f5a6b")
MERCHANT_ID = uuid.UUID("9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d")
REFUND_ID = uuid.UUID("c4d5e6f7-0819-4a2b-8c3d-4e5f60718293")


def card(number: str = "4242424242424242") -> CardDetails:
    return CardDetails(number, 12, 2034, "123")


def payment_request(method: PaymentMethod = CardToken("pm_card_visa"), amount: int = 2000,
                    currency: str = "USD", **extra: object) -> PaymentRequest:
    return PaymentRequest(ATTEMPT_ID, ORDER_ID, MERCHANT_ID, Money(amount, currency), method, **extra)


def refund_request(reference: str | None, amount: int = 2000, currency: str = "USD") -> RefundRequest:
    return RefundRequest(REFUND_ID, ATTEMPT_ID, reference, Money(amount, currency))


def form_of(request: httpx.Request) -> dict[str, str]:
    """A form-encoded request body as an ordered dict (Stripe)."""
    return dict(parse_qsl(request.content.decode(), keep_blank_values=True))


def json_of(request: httpx.Request) -> dict:
    return json.loads(request.content)

"""The gateway's in-memory books: payments, refunds, idempotency keys, deliveries.

Everything that must be atomic (claim a key, reserve a refundable amount) is plain
synchronous code with no `await` inside, so on the single event loop no other request
can interleave: 50 concurrent requests with one key still create exactly one payment."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox_gateway.errors import GatewayError
from sandbox_gateway.schemas import Delivery, PaymentMethodOut, PaymentOut, RefundOut
from sandbox_gateway.test_cards import Behaviour


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass(slots=True)
class PaymentRecord:
    id: str
    idempotency_key: str
    fingerprint: tuple[object, ...]  # what a repeat with the same key must match
    amount: int
    currency: str
    method: PaymentMethodOut  # brand + last4 only, never the number or CVC
    behaviour: Behaviour
    callback_url: str | None
    metadata: dict[str, str]
    description: str | None
    created: int = field(default_factory=lambda: int(time.time()))
    updated: int = field(default_factory=lambda: int(time.time()))
    status: str = "pending"
    failure_code: str | None = None
    failure_message: str | None = None
    amount_refunded: int = 0  # settled refunds
    amount_reserved: int = 0  # pending + settled refunds: what is no longer refundable
    requests: int = 1
    charges: int = 0
    return_url: str | None = None
    redirect_url: str | None = None  # the 3-D Secure page, while the shopper has to act

    def to_out(self) -> PaymentOut:
        return PaymentOut(self.id, self.idempotency_key, self.status, self.amount, self.amount_refunded,
                          self.currency, self.method, self.failure_code, self.failure_message,
                          dict(self.metadata), self.description, self.created, self.updated,
                          self.redirect_url if self.status == "requires_action" else None)


@dataclass(slots=True)
class RefundRecord:
    id: str
    payment_id: str
    idempotency_key: str
    amount: int
    currency: str
    callback_url: str | None
    metadata: dict[str, str]
    created: int = field(default_factory=lambda: int(time.time()))
    updated: int = field(default_factory=lambda: int(time.time()))
    status: str = "pending"
    failure_code: str | None = None
    failure_message: str | None = None

    def to_out(self) -> RefundOut:
        return RefundOut(self.id, self.payment_id, self.idempotency_key, self.status, self.amount, self.currency,
                         self.failure_code, self.failure_message, dict(self.metadata), self.created, self.updated)


class Ledger:
    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.payments: dict[str, PaymentRecord] = {}
        self.payments_by_key: dict[str, PaymentRecord] = {}
        self.refunds: dict[str, RefundRecord] = {}
        self.refunds_by_key: dict[str, RefundRecord] = {}
        self.deliveries: list[Delivery] = []

    def claim_payment(self, key: str, fingerprint: tuple[object, ...],
                      build: Callable[[], PaymentRecord]) -> tuple[PaymentRecord, bool]:
        """The payment for this key and whether it was created now. Synchronous on purpose."""
        existing = self.payments_by_key.get(key)
        if existing is not None:
            _check_same_request(existing.fingerprint, fingerprint)
            existing.requests += 1
            return existing, False
        payment = build()
        self.payments[payment.id] = self.payments_by_key[key] = payment
        return payment, True

    def claim_refund(self, key: str, payment: PaymentRecord, amount: int | None, metadata: dict[str, str],
                     build: Callable[[int], RefundRecord]) -> tuple[RefundRecord, bool]:
        """The refund for this key; a new one reserves its amount at once so that two
        concurrent refunds can never together exceed the payment."""
        existing = self.refunds_by_key.get(key)
        if existing is not None:
            _check_same_request((existing.payment_id, existing.amount, existing.metadata),
                                (payment.id, amount or existing.amount, metadata))
            return existing, False
        if payment.status != "succeeded":
            raise GatewayError(409, "payment_not_succeeded", f"payment {payment.id} is {payment.status}")
        remaining = payment.amount - payment.amount_reserved
        amount = remaining if amount is None else amount
        if amount <= 0 or amount > remaining:
            raise GatewayError(422, "amount_exceeds_refundable", f"at most {remaining} can still be refunded")
        refund = build(amount)
        payment.amount_reserved += amount
        self.refunds[refund.id] = self.refunds_by_key[key] = refund
        return refund, True

    def payment(self, payment_id: str) -> PaymentRecord:
        if (payment := self.payments.get(payment_id)) is None:
            raise GatewayError(404, "payment_not_found", f"no payment {payment_id}")
        return payment

    def payment_by_key(self, key: str) -> PaymentRecord:
        if (payment := self.payments_by_key.get(key)) is None:
            raise GatewayError(404, "payment_not_found", "no payment with this idempotency key")
        return payment

    def refund(self, refund_id: str) -> RefundRecord:
        if (refund := self.refunds.get(refund_id)) is None:
            raise GatewayError(404, "refund_not_found", f"no refund {refund_id}")
        return refund


def _check_same_request(first: tuple[object, ...], repeat: tuple[object, ...]) -> None:
    if first != repeat:
        raise GatewayError(422, "idempotency_key_reused",
                           "this idempotency key was already used with different parameters")

"""The gateway's use cases behind the HTTP routes: accept payments and refunds
idempotently, look them up, and expose the test-support views."""

from __future__ import annotations

import asyncio
import logging
from datetime import date

import httpx

from sandbox_gateway.callbacks import CallbackDispatcher
from sandbox_gateway.errors import GatewayError
from sandbox_gateway.ledger import Ledger, PaymentRecord, RefundRecord, new_id
from sandbox_gateway.payment_methods import read_payment_method
from sandbox_gateway.schemas import ChargeSummary, PaymentCreate, PaymentOut, RefundCreate, RefundOut
from sandbox_gateway.settings import GatewaySettings
from sandbox_gateway.settlement import Settlement
from sandbox_gateway.test_cards import Behaviour

log = logging.getLogger("sandbox_gateway")


def resolve_idempotency_key(body_key: str | None, header_key: str | None) -> str:
    if body_key and header_key and body_key != header_key:
        raise GatewayError(400, "invalid_request", "idempotency_key and the Idempotency-Key header differ")
    key = body_key or header_key
    if not key:
        raise GatewayError(400, "invalid_request", "an idempotency key is required (body or Idempotency-Key header)")
    return key


class Gateway:
    def __init__(self, settings: GatewaySettings, callback_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.ledger = Ledger()
        self.dispatcher = CallbackDispatcher(settings, self.ledger, callback_transport)
        self.settlement = Settlement(settings, self.dispatcher)

    async def create_payment(self, request: PaymentCreate, header_key: str | None,
                             base_url: str = "") -> tuple[PaymentOut, bool]:
        """(payment, created now). A repeated key returns the first payment and charges nothing.
        `base_url`: how the caller reached us, for the 3-D Secure page's address."""
        key = resolve_idempotency_key(request.idempotency_key, header_key)
        method, behaviour, token = read_payment_method(request, date.today())
        currency = request.currency.upper()
        # As Stripe does, a key is bound to every parameter of its first request, metadata
        # (our attempt, order and merchant) included: a replay with others is refused.
        fingerprint = (request.amount, currency, method.type, method.last4, token,
                       tuple(sorted(request.metadata.items())), request.callback_url, request.description)
        payment, created = self.ledger.claim_payment(key, fingerprint, lambda: PaymentRecord(
            new_id("sbx_pay"), key, fingerprint, request.amount, currency, method, behaviour,
            request.callback_url, dict(request.metadata), request.description, return_url=request.return_url))
        if created:
            log.info("payment %s accepted: %s %s %s ****%s behaviour=%s", payment.id, request.amount, currency,
                     method.brand or method.type, method.last4 or "", behaviour)
            if behaviour is Behaviour.THREE_D_SECURE:  # settles when the shopper answers
                public = (self.settings.public_url or base_url).rstrip("/")
                payment.status, payment.redirect_url = "requires_action", f"{public}/_sandbox/3ds/{payment.id}"
            else:
                self.settlement.schedule_payment(payment)
            if behaviour is Behaviour.TIMEOUT:
                # The charge goes ahead in the background; only this answer is late.
                # Repeats of the key answer at once, as a real idempotent retry would.
                await asyncio.sleep(self.settings.timeout_hold_s)
        return payment.to_out(), created

    def create_refund(self, request: RefundCreate, header_key: str | None) -> tuple[RefundOut, bool]:
        key = resolve_idempotency_key(request.idempotency_key, header_key)
        payment = self.ledger.payment(request.payment_id)
        refund, created = self.ledger.claim_refund(key, payment, request.amount, dict(request.metadata),
                                                   lambda amount: RefundRecord(
            new_id("sbx_re"), payment.id, key, amount, payment.currency, request.callback_url,
            dict(request.metadata)))
        if created:
            log.info("refund %s of %s accepted: %s %s", refund.id, payment.id, refund.amount, refund.currency)
            self.settlement.schedule_refund(refund, payment)
        return refund.to_out(), created

    def charges(self) -> list[ChargeSummary]:
        return [ChargeSummary(p.idempotency_key, p.id, p.behaviour.value, p.status, p.amount, p.currency,
                              p.requests, p.charges) for p in self.ledger.payments.values()]

    async def reset(self) -> None:
        await self.settlement.cancel_all()
        self.ledger.clear()

    async def shutdown(self) -> None:
        await self.settlement.cancel_all()
        await self.dispatcher.close()

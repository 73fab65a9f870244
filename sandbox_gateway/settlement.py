"""What happens after the gateway accepted a payment or refund: after the callback
delay it settles (charges, declines, refunds) and then plays the behaviour's callback
script. Runs as background tasks so the HTTP answer never waits for it. A 3-D Secure
payment is not scheduled: it settles when the shopper answers on the 3-D Secure page."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

import msgspec

from sandbox_gateway.callbacks import CallbackDispatcher
from sandbox_gateway.ledger import PaymentRecord, RefundRecord, new_id
from sandbox_gateway.schemas import CallbackEvent
from sandbox_gateway.settings import GatewaySettings
from sandbox_gateway.test_cards import AUTHENTICATION_FAILED, DECLINES, Behaviour


class Settlement:
    def __init__(self, settings: GatewaySettings, dispatcher: CallbackDispatcher) -> None:
        self._settings, self._dispatcher = settings, dispatcher
        self._tasks: set[asyncio.Task[None]] = set()  # strong refs: the loop only keeps weak ones

    def schedule_payment(self, payment: PaymentRecord) -> None:
        self._spawn(self._settle_payment(payment))

    def schedule_refund(self, refund: RefundRecord, payment: PaymentRecord) -> None:
        self._spawn(self._settle_refund(refund, payment))

    async def cancel_all(self) -> None:
        tasks, self._tasks = list(self._tasks), set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle_payment(self, payment: PaymentRecord) -> None:
        await asyncio.sleep(self._settings.callback_delay_s)
        self._decide(payment, DECLINES.get(payment.behaviour))
        await self._call_back(payment)

    def authenticate(self, payment: PaymentRecord, approved: bool) -> bool:
        """The shopper approved or refused 3-D Secure: the payment settles now (synchronous,
        so of two racing answers only the first counts) and its callback goes out in the
        background. False when the payment was not waiting for the shopper any more."""
        if payment.status != "requires_action":
            return False
        self._decide(payment, None if approved else AUTHENTICATION_FAILED)
        self._spawn(self._call_back(payment))
        return True

    @staticmethod
    def _decide(payment: PaymentRecord, decline: tuple[str, str] | None) -> None:
        if decline is None:
            payment.status, payment.charges = "succeeded", payment.charges + 1
        else:
            payment.status, (payment.failure_code, payment.failure_message) = "failed", decline
        payment.updated = int(time.time())

    async def _call_back(self, payment: PaymentRecord) -> None:
        if payment.callback_url:
            for event in self._payment_script(payment):
                await self._dispatcher.deliver(event, payment.callback_url)

    def _payment_script(self, payment: PaymentRecord) -> list[CallbackEvent]:
        final = CallbackEvent(new_id("evt"), f"payment.{payment.status}", payment.updated, payment.to_out())
        if payment.behaviour is Behaviour.NO_CALLBACK:
            return []
        if payment.behaviour is Behaviour.DUPLICATE_CALLBACK:
            return [final, final]  # a re-delivery: same event id, same body
        if payment.behaviour is Behaviour.OUT_OF_ORDER:
            pending = msgspec.structs.replace(payment.to_out(), status="pending", updated=payment.created)
            stale_at = min(payment.created, final.created - 1)  # strictly older than the final event
            return [final, CallbackEvent(new_id("evt"), "payment.processing", stale_at, pending)]
        return [final]

    async def _settle_refund(self, refund: RefundRecord, payment: PaymentRecord) -> None:
        await asyncio.sleep(self._settings.callback_delay_s)
        refund.status, refund.updated = "succeeded", int(time.time())
        payment.amount_refunded += refund.amount
        payment.updated = refund.updated
        if refund.callback_url:
            event = CallbackEvent(new_id("evt"), "refund.succeeded", refund.updated, refund.to_out())
            await self._dispatcher.deliver(event, refund.callback_url)

"""The payment flow as a webhook-driven merchant sees it (on demand, issue 17).

Like `payment.flow.workers` (benchmarks/payment_flow.py), but instead of polling, each
virtual user waits for the signed `payment.succeeded` webhook of its payment on a local
receiver that runs in the load generator process (`webhook_port` in the context): the
stack's merchant gets the receiver's URL, the workers allow that loopback target
(FXP_WORKERS__WEBHOOK_ALLOWLIST). The receiver verifies every Standard Webhooks signature
with the merchant's secret (an unsigned or badly signed one is counted as an error), answers
204, and hands `payment.succeeded` to the user waiting for that payment id. The clock runs
from sending POST /payments to the webhook's arrival, so the relay, the queues, the
provider callback and the webhook delivery are all inside the measured latency and CPU."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import msgspec
from standardwebhooks import Webhook

from benchmarks.payment_flow import CARD, DEFAULTS, _created, _headers
from benchmarks.scenarios import ORDER_BODY, Request, Scenario, Stack, register

WAITED_EVENT = "payment.succeeded"


class _Event(msgspec.Struct):
    type: str
    data: dict[str, Any]


class Receiver:
    """HTTP/1.1 keep-alive endpoint for the workers' webhook sender (one per loadgen process)."""

    def __init__(self, secret: str, clock: Any) -> None:
        self._webhook, self._clock = Webhook(secret), clock
        self._arrived: dict[str, float] = {}   # payment id -> when its webhook came
        self._waiting: dict[str, asyncio.Future[float]] = {}
        self.bad_signatures = 0
        self.received = 0

    async def wait(self, payment_id: str, timeout_s: float) -> float:
        if payment_id in self._arrived:
            return self._arrived.pop(payment_id)
        future = self._waiting[payment_id] = asyncio.get_running_loop().create_future()
        try:
            return await asyncio.wait_for(future, timeout_s)
        finally:
            self._waiting.pop(payment_id, None)

    def _deliver(self, body: bytes, headers: dict[str, str], at: float) -> None:
        try:
            self._webhook.verify(body, headers)
        except Exception:
            self.bad_signatures += 1
            return
        self.received += 1
        event = msgspec.json.decode(body, type=_Event)
        if event.type != WAITED_EVENT:
            return
        payment_id = str(event.data.get("payment_id"))
        future = self._waiting.get(payment_id)
        if future is not None and not future.done():
            future.set_result(at)
        else:
            self._arrived[payment_id] = at

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                at = self._clock()
                headers: dict[str, str] = {}
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.decode("latin-1").partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self._deliver(body, headers, at)
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()


_receiver: Receiver | None = None
_starting: asyncio.Lock | None = None


async def _the_receiver(ctx: dict[str, Any], clock: Any) -> Receiver:
    global _receiver, _starting
    _starting = _starting or asyncio.Lock()
    async with _starting:
        if _receiver is None:
            receiver = Receiver(ctx["webhook_secret"], clock)
            await asyncio.start_server(receiver.handle, "127.0.0.1", ctx["webhook_port"])
            _receiver = receiver
    return _receiver


async def pay_and_wait_for_webhook(user: Any, ctx: dict[str, Any]) -> None:
    options = DEFAULTS | ctx
    receiver = await _the_receiver(ctx, user.clock)
    status, body = await user.call(Request("POST", "/orders", _headers(ctx, True), ORDER_BODY), "POST /orders")
    if status != 201:
        return user.fail(f"POST /orders {status}")
    order_id = _created(body).id
    card = {**CARD, "exp_year": datetime.now(UTC).year + 5}
    payment = msgspec.json.encode({"order_id": order_id, "provider": "sandbox", "payment_method": card})
    started = user.clock()
    status, body = await user.call(Request("POST", "/payments", _headers(ctx, True), payment), "POST /payments")
    if status != 202:
        return user.fail(f"POST /payments {status}")
    try:
        arrived = await receiver.wait(_created(body).id, options["flow_timeout_s"])
    except TimeoutError:
        return user.fail(f"no {WAITED_EVENT} webhook after {options['flow_timeout_s']:g} s "
                         f"({receiver.bad_signatures} bad signatures)")
    return user.done(arrived - started)


register(Scenario(
    "payment.flow.webhook", "pay flow, webhook", "api", kind="flow", flow=pay_and_wait_for_webhook, unit="pay",
    stack=Stack(dispatch="outbox", sandbox=True, workers=2, webhooks=True, relay_on_commit=True), on_demand=True,
    versus="payment.flow.webhook_before",
    description="POST /orders, POST /payments (4242...), then wait for the signed payment.succeeded webhook on "
                "a local receiver; workers as make run deploys them; latency = POST /payments -> webhook",
))

register(Scenario(
    "payment.flow.webhook_poll", "pay flow, webhook, poll", "api", kind="flow", flow=pay_and_wait_for_webhook,
    unit="pay", stack=Stack(dispatch="outbox", sandbox=True, workers=2, webhooks=True, relay_on_commit=False),
    on_demand=True,
    description="payment.flow.webhook with FXP_WORKERS__RELAY_ON_COMMIT=false: the relay runs only on its "
                "periodic tick, the queues still wake their consumers",
))

register(Scenario(
    "payment.flow.webhook_before", "pay flow, webhook, before", "api", kind="flow", flow=pay_and_wait_for_webhook,
    unit="pay", stack=Stack(dispatch="outbox", sandbox=True, workers=2, webhooks=True, relay_on_commit=False,
                            queue_wakeups=False),
    on_demand=True,
    description="payment.flow.webhook as it was before issue 17 item 4: the relay on its periodic tick and "
                "Redis consumers that only poll (FXP_WORKERS__RELAY_ON_COMMIT=false, "
                "FXP_WORKERS__QUEUE_WAKEUPS=false), for before/after in one run",
))

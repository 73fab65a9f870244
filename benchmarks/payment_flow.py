"""The full payment flow, as a merchant drives it (flow scenarios, on demand).

Each virtual user of the load generator repeats, on its own keep-alive connection:

1. `POST /orders` (fresh Idempotency-Key)                               -> 201, order id
2. `POST /payments` with card 4242424242424242 (fresh Idempotency-Key)  -> 202   <- clock starts
3. `GET /orders/{id}` every `poll_ms` until the order is PAYMENT_DONE           <- clock stops
   (`--poll payment`: `GET /payments/{id}` until the attempt is SUCCESS instead; the
   attempt and the order change in the same transaction, so either shows the same moment)

The figures: completed payments per second, and the time from sending `POST /payments` to
receiving the first answer that shows the order paid. Granularity: the next poll is sent
`poll_ms` after the previous answer arrived, so a payment is observed at most `poll_ms`
plus one GET round trip after it was committed (on average about half of that). Errors: a
step answering other than expected, a transport error, an order ending PAYMENT_FAILED, or
no verdict within `flow_timeout_s`.

Two stacks, each its own scenario:
- `payment.flow.inline`: FXP_PAYMENTS__DISPATCH=inline, no workers; the API process that
  took the payment calls the sandbox gateway after commit.
- `payment.flow.workers`: FXP_PAYMENTS__DISPATCH=outbox and `python -m app.workers.main
  --processes 2`: the outbox relay (ticks every FXP_WORKERS__RELAY_INTERVAL_S, 0.2 s by
  default) hands `payment.requested` to a `dispatch_payment` actor, which calls the sandbox.
In both the sandbox calls back `POST /callbacks/sandbox` on the API
(`SANDBOX_CALLBACK_DELAY_S`, 0.01 s here), which settles the payment."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

from benchmarks.scenarios import JSON, ORDER_BODY, Request, Scenario, Stack, register

CARD = {"type": "card", "number": "4242424242424242", "exp_month": 12,
        "exp_year": datetime.now(UTC).year + 5, "cvc": "123"}
POLL = {  # --poll: path, step name, the state that ends the flow, states that fail it
    "order": ("/orders/{order_id}", "GET /orders/{id}", "PAYMENT_DONE", {"PAYMENT_FAILED", "ORDER_CANCELLED"}),
    "payment": ("/payments/{payment_id}", "GET /payments/{id}", "SUCCESS", {"FAILED"}),
}
DEFAULTS = {"poll": "order", "poll_ms": 10.0, "flow_timeout_s": 30.0}


class _Created(msgspec.Struct):
    id: str


class _State(msgspec.Struct):
    status: str


_created = msgspec.json.Decoder(_Created).decode
_state = msgspec.json.Decoder(_State).decode


def _headers(ctx: dict[str, Any], idempotent: bool = False) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {ctx['api_key']}"}
    if idempotent:
        headers |= {**JSON, "Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
    return headers


async def pay_an_order(user: Any, ctx: dict[str, Any]) -> None:
    """One iteration: create an order, pay it, poll until it is paid (user: loadgen.VirtualUser)."""
    options = DEFAULTS | ctx
    status, body = await user.call(Request("POST", "/orders", _headers(ctx, True), ORDER_BODY), "POST /orders")
    if status != 201:
        return user.fail(f"POST /orders {status}")
    order_id = _created(body).id
    payment = msgspec.json.encode({"order_id": order_id, "provider": "sandbox", "payment_method": CARD})
    started = user.clock()
    status, body = await user.call(Request("POST", "/payments", _headers(ctx, True), payment), "POST /payments")
    if status != 202:
        return user.fail(f"POST /payments {status}")
    path, step, done, failed = POLL[options["poll"]]
    path = path.format(order_id=order_id, payment_id=_created(body).id)
    poll_s, deadline = options["poll_ms"] / 1000, started + options["flow_timeout_s"]
    read = Request("GET", path, _headers(ctx))
    polls = 0
    while True:
        await asyncio.sleep(poll_s)
        status, body = await user.call(read, step)
        polls += 1
        if status != 200:
            return user.fail(f"{step} {status}")
        state = _state(body).status
        if state == done:
            return user.done(user.clock() - started, polls=polls)
        if state in failed:
            return user.fail(f"payment ended {state}")
        if user.clock() > deadline:
            return user.fail(f"not {done} after {options['flow_timeout_s']:g} s")


register(Scenario(
    "payment.flow.inline", "pay flow, inline", "api", kind="flow", flow=pay_an_order, unit="pay",
    stack=Stack(dispatch="inline", sandbox=True), on_demand=True,
    description="POST /orders, POST /payments (4242...), poll until PAYMENT_DONE; in-process dispatch, "
                "sandbox gateway; latency = POST /payments -> PAYMENT_DONE seen",
))

register(Scenario(
    "payment.flow.workers", "pay flow, workers", "api", kind="flow", flow=pay_an_order, unit="pay",
    stack=Stack(dispatch="outbox", sandbox=True, workers=2, relay_on_commit=True), on_demand=True,
    description="the same flow with FXP_PAYMENTS__DISPATCH=outbox and `app.workers.main --processes 2` "
                "as make run deploys them (relay on commit -> dispatch_payment actor -> sandbox)",
))

register(Scenario(
    "payment.flow.workers_tick", "pay flow, workers, tick", "api", kind="flow", flow=pay_an_order, unit="pay",
    stack=Stack(dispatch="outbox", sandbox=True, workers=2, relay_on_commit=False, queue_wakeups=False),
    on_demand=True,
    description="payment.flow.workers with FXP_WORKERS__RELAY_ON_COMMIT=false and "
                "FXP_WORKERS__QUEUE_WAKEUPS=false: relay tick, polling consumers, as before issue 17",
))

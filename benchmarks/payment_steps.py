"""The payment flow's API requests one at a time, for `benchmarks.trace` (on demand): what
`payment.flow.workers` makes the API serve per payment besides POST /orders and the
polling GET /orders/{id}.

- `payments.create`: `POST /payments` (card 4242..., fresh Idempotency-Key) for an order
  created beforehand (each order is paid once);
- `callbacks.sandbox`: the sandbox gateway's signed `payment.succeeded` callback for a
  payment requested beforehand (each delivered once), as `POST /callbacks/sandbox`.

Each setup makes SETUP_COUNT of them: `benchmarks.trace payments.create callbacks.sandbox
--requests 2000` at most (warm-up included). Run them with FXP_PAYMENTS__DISPATCH=outbox
(benchmarks.trace's default), as the workers flow does: nothing is sent to a gateway."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

import msgspec

from benchmarks.payment_flow import CARD
from benchmarks.scenarios import JSON, Request, Scenario, SetupContext, _create_orders, register

SETUP_COUNT = 2100
CALLBACK_SECRET = "sandbox_dev_secret"  # app.adapters.providers.factory's default, as the benchmark stack's


def _payment_body(order_id: str) -> bytes:
    return msgspec.json.encode({"order_id": order_id, "provider": "sandbox", "payment_method": CARD})


async def _orders(setup: SetupContext) -> dict[str, Any]:
    return {"order_ids": await _create_orders(setup, SETUP_COUNT)}


def _pay(ctx: dict[str, Any], n: int) -> Request:
    headers = {"Authorization": f"Bearer {ctx['api_key']}", **JSON, "Idempotency-Key": f"bench-{uuid.uuid4().hex}"}
    return Request("POST", "/payments", headers, _payment_body(ctx["order_ids"][n]))


async def _payments(setup: SetupContext) -> dict[str, Any]:
    payments = []
    for order_id in (await _orders(setup))["order_ids"]:
        response = await setup.client.post("/payments", content=_payment_body(order_id),
                                           headers={**JSON, "Idempotency-Key": f"setup-{uuid.uuid4().hex}"})
        response.raise_for_status()
        payment = response.json()
        payments.append([payment["id"], order_id, payment["amount"], payment["currency"]])
    me = (await setup.client.get("/payments/" + payments[0][0])).json()
    return {"payments": payments, "merchant_id": me.get("merchant_id", "")}


def _callback(ctx: dict[str, Any], n: int) -> Request:
    attempt_id, order_id, amount, currency = ctx["payments"][n]
    body = msgspec.json.encode({
        "id": f"evt_{uuid.uuid4().hex}", "type": "payment.succeeded", "created": int(time.time()),
        "data": {"object": "payment", "id": f"pay_{attempt_id.replace('-', '')}", "idempotency_key": attempt_id,
                 "status": "succeeded", "amount": amount, "currency": currency,
                 "metadata": {"attempt_id": attempt_id, "order_id": order_id}},
    })
    timestamp = str(int(time.time()))
    signature = hmac.new(CALLBACK_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {**JSON, "X-Sandbox-Timestamp": timestamp, "X-Sandbox-Signature": f"v1={signature}"}
    return Request("POST", "/callbacks/sandbox", headers, body)


register(Scenario(
    "payments.create", "POST /payments", "api", _pay, setup=_orders, on_demand=True,
    description="for benchmarks.trace: pay one of the orders created beforehand (each once)",
))

register(Scenario(
    "callbacks.sandbox", "POST /callbacks/sandbox", "api", _callback, setup=_payments, on_demand=True,
    description="for benchmarks.trace: the signed payment.succeeded callback of a payment requested beforehand",
))

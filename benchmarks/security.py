"""The cost of rate limiting and fraud screening, on demand: POST /orders and the pair
POST /orders + POST /payments with both switched on, against the same with both
switched off, in the same run (the report's "vs off" column gives the ratios).

- on: every request counted against a per-credential and a per-IP moving window in Redis
  (`limits`; never reached, so nothing is refused) and every payment screened by six
  rules (block lists of IPs and BINs, an amount limit, velocity per card and per IP in
  one Redis script, repeated failures per card: one SQL count).
- off: FXP_RATE_LIMIT__ENABLED=false, FXP_FRAUD__ENABLED=false.
Payments are written only (FXP_PAYMENTS__DISPATCH=outbox, no workers): what is measured
is the request, not the provider."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from benchmarks.payment_flow import _created, _headers
from benchmarks.scenarios import ORDER_BODY, Request, Scenario, SetupContext, Stack, _order_create, register

CARD = {"type": "card", "number": "4242424242424242", "exp_month": 12,
        "exp_year": datetime.now(UTC).year + 5, "cvc": "123"}
RULES = {"rules": [
    {"id": "blocked-ips", "priority": 1, "action": "block",
     "condition": {"type": "block_list", "list": "ip", "values": ["203.0.113.0/24", "198.51.100.0/24"]}},
    {"id": "blocked-bins", "priority": 2, "action": "block",
     "condition": {"type": "block_list", "list": "bin", "values": ["400000", "510510"]}},
    {"id": "huge", "priority": 3, "action": "review",
     "condition": {"type": "amount_limit", "currency": "USD", "max_amount": 10_000_000}},
    {"id": "card-velocity", "priority": 4, "action": "review",
     "condition": {"type": "velocity", "subject": "card", "max_attempts": 1_000_000, "window_s": 3600}},
    {"id": "ip-velocity", "priority": 5, "action": "review",
     "condition": {"type": "velocity", "subject": "ip", "max_attempts": 1_000_000, "window_s": 60}},
    {"id": "failing-card", "priority": 6, "action": "block",
     "condition": {"type": "card_failures", "max_failures": 5, "window_s": 3600}},
]}


async def _rules(setup: SetupContext) -> dict[str, Any]:
    response = await setup.client.put(f"/admin/merchants/{setup.merchant_id}/fraud-rules", json=RULES,
                                      headers={"Authorization": "Bearer bench-admin-key"})
    response.raise_for_status()
    return {}


async def order_and_pay(user: Any, ctx: dict[str, Any]) -> None:
    started = user.clock()
    status, body = await user.call(Request("POST", "/orders", _headers(ctx, True), ORDER_BODY), "POST /orders")
    if status != 201:
        return user.fail(f"POST /orders {status}")
    payment = msgspec.json.encode({"order_id": _created(body).id, "provider": "sandbox", "payment_method": CARD})
    status, body = await user.call(Request("POST", "/payments", _headers(ctx, True), payment), "POST /payments")
    if status != 202 or b'"INITIATED"' not in body:
        return user.fail(f"POST /payments {status}")
    return user.done(user.clock() - started)


for mode in ("on", "off"):
    register(Scenario(
        f"security.orders.{mode}", f"POST /orders sec {mode}", "api", _order_create,
        unique_headers=("Idempotency-Key",), stack=Stack(security=mode), on_demand=True,
        description=f"POST /orders with rate limiting {mode}",
    ))
    register(Scenario(
        f"security.payments.{mode}", f"order+pay sec {mode}", "api", kind="flow", flow=order_and_pay,
        unit="pay", stack=Stack(dispatch="outbox", security=mode), on_demand=True,
        setup=_rules if mode == "on" else None,
        description=f"POST /orders then POST /payments (written, not dispatched), rate limiting and "
                    f"fraud rules {mode}",
    ))

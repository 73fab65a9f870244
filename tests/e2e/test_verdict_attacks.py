"""Finding 1 of issue 9, replayed against real processes (API + sandbox gateway over HTTP,
real PostgreSQL): a signed callback settles an attempt only when it reports exactly that
attempt's payment; money a mismatching verdict reports is refunded; cancelling refunds the
capture the attempt actually made."""

from __future__ import annotations

import asyncio
import time
import uuid

import msgspec

from sandbox_gateway.signing import signed_headers
from tests.e2e.conftest import wait_for_order
from tests.e2e.live_stack import CALLBACK_SECRET
from tests.e2e.test_payments_flow import NO_CALLBACK, SUCCESS, card, pay, pending_attempt

HUNDRED_USD = {"amount": 10_000, "currency": "USD", "items": [{"name": "Lamp", "quantity": 1, "unit_amount": 10_000}]}


async def eventually(check, timeout_s: float = 15.0):
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.05)


async def hundred_dollar_order(api, merchant) -> dict:
    response = await api.post("/orders", json=HUNDRED_USD, headers=merchant.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def mismatches_of(container, attempt_id: str) -> list:
    async with container.engine.transaction() as tx:
        return await tx.connection.fetch("SELECT * FROM provider_verdict_mismatches WHERE attempt_id = $1 "
                                          "ORDER BY created_at", uuid.UUID(attempt_id))


async def sandbox_payment(sandbox, live_stack, amount: int, currency: str, metadata: dict[str, str]) -> dict:
    """A payment made at the gateway by a key holder, not by FusionXPay's purchase: the
    attack of finding 1 had no key to present; this shows what happens if one could."""
    response = await sandbox.post("/v1/payments", json={
        "amount": amount, "currency": currency, "card": {"number": SUCCESS, "exp_month": 12, "exp_year": 2035,
                                                         "cvc": "123"},
        "idempotency_key": f"outsider-{uuid.uuid4().hex}", "metadata": metadata,
        "callback_url": f"{live_stack.api_url}/callbacks/sandbox"})
    assert response.status_code == 201, response.text
    return response.json()


async def refunded_at_gateway(sandbox, payment_id: str, amount: int) -> None:
    async def done() -> bool:
        return (await sandbox.get(f"/v1/payments/{payment_id}")).json()["amount_refunded"] == amount
    await eventually(done)


async def test_a_signed_1_jpy_callback_does_not_pay_a_100_usd_attempt(api, merchant, container):
    order = await hundred_dollar_order(api, merchant)
    attempt = await pay(api, merchant, order["id"], NO_CALLBACK)
    attempt = (await pending_attempt_of(api, merchant, attempt["id"]))
    body = msgspec.json.encode({"id": f"evt_{uuid.uuid4().hex}", "type": "payment.succeeded", "created": int(time.time()),
                                "data": {"object": "payment", "id": attempt["provider_reference"],
                                         "idempotency_key": attempt["id"], "status": "succeeded", "amount": 1,
                                         "currency": "JPY", "metadata": {"attempt_id": attempt["id"]}}})
    headers = {**signed_headers(CALLBACK_SECRET, body), "content-type": "application/json"}
    response = await api.post("/callbacks/sandbox", content=body, headers=headers)
    assert (response.status_code, response.json()["status"]) == (200, "mismatch")
    current = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
    assert current["status"] == "PAYMENT_IN_PROGRESS" and current["payments"][0]["status"] == "PENDING"
    [record] = await mismatches_of(container, attempt["id"])
    assert sorted(record["reasons"]) == ["amount", "currency"] and record["refund_id"] is None
    async with container.engine.transaction() as tx:
        assert await tx.connection.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type = 'payment.verdict_mismatch' AND aggregate_id = $1",
            record["id"]) == 1


async def pending_attempt_of(api, merchant, attempt_id: str) -> dict:
    async def pending() -> dict | None:
        current = (await api.get(f"/payments/{attempt_id}", headers=merchant.headers)).json()
        return current if current["status"] == "PENDING" and current["provider_reference"] else None
    return await eventually(pending)


async def test_another_merchants_payment_pointing_at_this_attempt_is_refused_and_refunded(
        api, sandbox, live_stack, merchant, other_merchant, container):
    order, attempt = await pending_attempt(api, merchant)
    their_order = await hundred_dollar_order(api, other_merchant)
    theirs = await sandbox_payment(sandbox, live_stack, attempt["amount"], "USD", {
        "attempt_id": attempt["id"], "order_id": their_order["id"], "merchant_id": other_merchant.id})
    await refunded_at_gateway(sandbox, theirs["id"], attempt["amount"])  # the money went back
    [record] = await eventually(lambda: mismatches_of(container, attempt["id"]))
    assert {"reference", "attempt", "order", "merchant"} <= set(record["reasons"])
    current = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
    assert current["status"] == "PAYMENT_IN_PROGRESS" and current["refunds"] == []


async def test_a_payment_made_at_the_sandbox_without_the_key_is_refused(api, live_stack, sandbox):
    import httpx

    async with httpx.AsyncClient(base_url=live_stack.sandbox_url) as anonymous:
        response = await anonymous.post("/v1/payments", json={
            "amount": 1, "currency": "USD", "card": card(SUCCESS), "idempotency_key": "anon-1",
            "metadata": {"attempt_id": str(uuid.uuid4())}})
    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")
    charges = (await sandbox.get("/_sandbox/charges")).json()["data"]
    assert not [c for c in charges if c["idempotency_key"] == "anon-1"]


async def test_a_one_cent_payment_tagged_with_an_attempt_is_refunded_and_cancel_refunds_the_real_capture(
        api, sandbox, live_stack, merchant, container):
    order = await hundred_dollar_order(api, merchant)
    attempt = await pay(api, merchant, order["id"], SUCCESS)
    assert (await wait_for_order(api, merchant, order["id"]))["status"] == "PAYMENT_DONE"
    cent = await sandbox_payment(sandbox, live_stack, 1, "USD", {"attempt_id": attempt["id"]})
    await refunded_at_gateway(sandbox, cent["id"], 1)
    [record] = await eventually(lambda: mismatches_of(container, attempt["id"]))
    assert {"reference", "attempt", "amount"} <= set(record["reasons"]) and record["refund_id"] is not None
    paid = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
    assert paid["status"] == "PAYMENT_DONE" and paid["refunds"] == []

    cancelled = await api.post(f"/orders/{order['id']}/cancel", headers=merchant.headers, json={})
    assert cancelled.status_code == 200, cancelled.text
    real = (await sandbox.get("/v1/payments", params={"idempotency_key": attempt["id"]})).json()
    await refunded_at_gateway(sandbox, real["id"], 10_000)

    async def refund_settled() -> dict | None:
        view = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
        return view if view["refunds"] and view["refunds"][0]["status"] == "SUCCESS" else None
    view = await eventually(refund_settled)
    assert view["status"] == "ORDER_CANCELLED" and view["refunds"][0]["amount"] == 10_000
    assert (await sandbox.get(f"/v1/payments/{cent['id']}")).json()["amount_refunded"] == 1  # not more


async def test_concurrent_duplicate_mismatching_callbacks_refund_the_reported_capture_once(api, merchant, container):
    order, attempt = await pending_attempt(api, merchant)
    foreign = f"sbx_pay_foreign_{uuid.uuid4().hex[:12]}"

    def callback(event_id: str) -> tuple[bytes, dict[str, str]]:
        body = msgspec.json.encode({"id": event_id, "type": "payment.succeeded", "created": int(time.time()),
                                    "data": {"object": "payment", "id": foreign, "idempotency_key": attempt["id"],
                                             "status": "succeeded", "amount": 1, "currency": "USD",
                                             "metadata": {"attempt_id": attempt["id"]}}})
        return body, {**signed_headers(CALLBACK_SECRET, body), "content-type": "application/json"}

    deliveries = [callback(f"evt_dup_{uuid.uuid4().hex}") for _ in range(10)] * 2  # 10 verdicts, each twice
    responses = await asyncio.gather(*(api.post("/callbacks/sandbox", content=body, headers=headers)
                                       for body, headers in deliveries))
    assert sorted({r.json()["status"] for r in responses}) == ["duplicate", "mismatch"]
    assert [r.json()["status"] for r in responses].count("mismatch") == 10
    async with container.engine.transaction() as tx:
        refunds = await tx.connection.fetch("SELECT purpose, amount_minor FROM refunds WHERE target_reference = $1",
                                            foreign)
    assert [(r["purpose"], r["amount_minor"]) for r in refunds] == [("unrequested_capture", 1)]
    assert len(await mismatches_of(container, attempt["id"])) == 10
    current = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
    assert current["status"] == "PAYMENT_IN_PROGRESS" and current["refunds"] == []

"""Payments end to end: the API and the sandbox gateway as real processes, real
PostgreSQL and Redis; the sandbox calls back over HTTP."""

from __future__ import annotations

import asyncio
import time
import uuid

import msgspec
import pytest

from sandbox_gateway.signing import signed_headers
from tests.e2e.conftest import wait_for_order
from tests.e2e.live_stack import CALLBACK_SECRET, METRICS_TOKEN

ORDER = {"amount": 4200, "currency": "USD", "items": [{"name": "Lamp", "quantity": 1, "unit_amount": 4200}]}
SUCCESS, DECLINED, NO_CALLBACK, TIMEOUT = "4242424242424242", "4000000000000002", "4000000000000200", "4000000000000101"
TWICE, OUT_OF_ORDER = "4000000000000309", "4000000000000408"


def card(number: str) -> dict:
    return {"type": "card", "number": number, "exp_month": 12, "exp_year": 2035, "cvc": "123"}


async def new_order(api, merchant) -> dict:
    response = await api.post("/orders", json=ORDER, headers=merchant.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def pay(api, merchant, order_id: str, number: str, **headers) -> dict:
    response = await api.post("/payments", headers={**merchant.headers, **headers},
                              json={"order_id": order_id, "provider": "sandbox", "payment_method": card(number)})
    assert response.status_code == 202, response.text
    return response.json()


async def charges_for(sandbox, attempt_id: str) -> list[dict]:
    data = (await sandbox.get("/_sandbox/charges")).json()["data"]
    return [c for c in data if c["idempotency_key"] == attempt_id]


@pytest.mark.parametrize(("number", "status", "code"), [
    (SUCCESS, "PAYMENT_DONE", None),
    (DECLINED, "PAYMENT_FAILED", "card_declined"),
    ("4000000000009995", "PAYMENT_FAILED", "insufficient_funds"),
    ("4000000000000069", "PAYMENT_FAILED", "expired_card"),
    ("4000000000000119", "PAYMENT_FAILED", "processing_error"),
    (TWICE, "PAYMENT_DONE", None),
    (OUT_OF_ORDER, "PAYMENT_DONE", None),
])
async def test_each_sandbox_outcome(api, sandbox, merchant, number, status, code):
    order = await new_order(api, merchant)
    attempt = await pay(api, merchant, order["id"], number)
    assert attempt["status"] == "INITIATED" and attempt["card_last4"] == number[-4:]
    final = await wait_for_order(api, merchant, order["id"])
    assert final["status"] == status
    payment = final["payments"][0]
    assert payment["status"] == ("SUCCESS" if status == "PAYMENT_DONE" else "FAILED")
    assert payment["failure_code"] == code
    await asyncio.sleep(0.3)  # let duplicate / stale callbacks arrive: nothing may change
    again = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
    assert again["status"] == status and again["payments"][0]["status"] == payment["status"]
    expected_charges = 1 if status == "PAYMENT_DONE" else 0  # a decline moves no money
    assert [c["charges"] for c in await charges_for(sandbox, attempt["id"])] == [expected_charges]


async def test_fifty_concurrent_payments_make_one_attempt_and_one_charge(api, sandbox, merchant, container):
    order = await new_order(api, merchant)
    requests = [
        api.post("/payments", headers={**merchant.headers, "Idempotency-Key": f"pay-{i % 5}"},
                 json={"order_id": order["id"], "payment_method": card(SUCCESS)})
        for i in range(50)
    ]
    responses = await asyncio.gather(*requests)
    accepted = [r for r in responses if r.status_code == 202]
    assert accepted and all(r.status_code in (202, 409) for r in responses), [r.text for r in responses]
    assert len({r.json()["id"] for r in accepted}) == 1
    final = await wait_for_order(api, merchant, order["id"])
    assert final["status"] == "PAYMENT_DONE" and len(final["payments"]) == 1
    assert [c["charges"] for c in await charges_for(sandbox, accepted[0].json()["id"])] == [1]


def sandbox_event(attempt: dict, event_type: str = "payment.succeeded", event_id: str | None = None) -> bytes:
    """A callback the gateway could send about `attempt`'s own payment (same reference, amount, currency)."""
    return msgspec.json.encode({
        "id": event_id or f"evt_{uuid.uuid4().hex}", "type": event_type, "created": int(time.time()),
        "data": {"object": "payment", "id": attempt["provider_reference"], "idempotency_key": attempt["id"],
                 "status": "succeeded" if event_type == "payment.succeeded" else "failed",
                 "amount": attempt["amount"], "currency": attempt["currency"], "failure_code": None,
                 "failure_message": None, "metadata": {"attempt_id": attempt["id"]}},
    })


async def pending_attempt(api, merchant) -> tuple[dict, dict]:
    order = await new_order(api, merchant)
    attempt = await pay(api, merchant, order["id"], NO_CALLBACK)
    for _ in range(100):
        current = (await api.get(f"/payments/{attempt['id']}", headers=merchant.headers)).json()
        if current["status"] == "PENDING":
            return order, current
        await asyncio.sleep(0.05)
    raise AssertionError("attempt never became PENDING")


async def outbox_events(container, aggregate_id: str) -> list[str]:
    async with container.engine.transaction() as tx:
        rows = await tx.connection.fetch("SELECT event_type FROM outbox WHERE aggregate_id = $1 ORDER BY seq",
                                         uuid.UUID(aggregate_id))
    return [r["event_type"] for r in rows]


async def test_twenty_concurrent_copies_of_a_callback_apply_once(api, merchant, container):
    order, attempt = await pending_attempt(api, merchant)
    body = sandbox_event(attempt)
    headers = {**signed_headers(CALLBACK_SECRET, body), "content-type": "application/json"}
    responses = await asyncio.gather(*(api.post("/callbacks/sandbox", content=body, headers=headers)
                                       for _ in range(20)))
    assert [r.status_code for r in responses] == [200] * 20
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses.count("applied") == 1 and statuses.count("duplicate") == 19
    assert (await outbox_events(container, attempt["id"])).count("payment.succeeded") == 1
    assert (await wait_for_order(api, merchant, order["id"]))["status"] == "PAYMENT_DONE"


@pytest.mark.parametrize("forgery", ["bad_signature", "stale", "malformed", "unsigned"])
async def test_forged_stale_and_malformed_callbacks_change_nothing(api, merchant, container, forgery):
    order, attempt = await pending_attempt(api, merchant)
    body = sandbox_event(attempt)
    headers = signed_headers(CALLBACK_SECRET, body)
    if forgery == "bad_signature":
        headers = signed_headers("not-the-secret", body)
    elif forgery == "stale":
        headers = signed_headers(CALLBACK_SECRET, body, timestamp=int(time.time()) - 3600)
    elif forgery == "malformed":
        body = b'{"id": "evt_1", "type": '
        headers = signed_headers(CALLBACK_SECRET, body)
    else:
        headers = {}
    response = await api.post("/callbacks/sandbox", content=body, headers=headers)
    assert response.status_code in (400, 401), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    after = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
    assert after["status"] == "PAYMENT_IN_PROGRESS" and after["payments"][0]["status"] == "PENDING"
    assert "payment.succeeded" not in await outbox_events(container, attempt["id"])


async def test_replayed_callback_is_a_no_op(api, merchant):
    order, attempt = await pending_attempt(api, merchant)
    body = sandbox_event(attempt, "payment.failed")
    first = await api.post("/callbacks/sandbox", content=body, headers=signed_headers(CALLBACK_SECRET, body))
    assert first.json()["status"] == "applied"
    replay = await api.post("/callbacks/sandbox", content=body, headers=signed_headers(CALLBACK_SECRET, body))
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    late = sandbox_event(attempt)  # a new event for an attempt already final
    response = await api.post("/callbacks/sandbox", content=late, headers=signed_headers(CALLBACK_SECRET, late))
    assert response.json()["status"] == "already_final"
    assert (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()["status"] == "PAYMENT_FAILED"


async def test_callback_racing_a_cancel_stays_consistent(api, merchant):
    for _ in range(3):
        order, attempt = await pending_attempt(api, merchant)
        body = sandbox_event(attempt)
        callback, cancel = await asyncio.gather(
            api.post("/callbacks/sandbox", content=body, headers=signed_headers(CALLBACK_SECRET, body)),
            api.post(f"/orders/{order['id']}/cancel", headers=merchant.headers),
        )
        assert callback.status_code == 200
        final = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
        assert final["payments"][0]["status"] == "SUCCESS"
        if cancel.status_code == 200:  # the callback committed first: cancelled and refunded
            assert final["status"] == "ORDER_CANCELLED" and len(final["refunds"]) == 1
        else:
            assert cancel.status_code == 409 and final["status"] == "PAYMENT_DONE" and final["refunds"] == []


async def test_retry_after_each_failure_code_and_past_the_limit(api, merchant):
    for number in ["4000000000000002", "4000000000009995", "4000000000000069", "4000000000000119"]:
        order = await new_order(api, merchant)
        first = await pay(api, merchant, order["id"], number)
        assert (await wait_for_order(api, merchant, order["id"]))["status"] == "PAYMENT_FAILED"
        retried = await api.post(f"/payments/{first['id']}/retry", headers=merchant.headers,
                                 json={"payment_method": card(SUCCESS)})
        assert retried.status_code == 202 and retried.json()["attempt_number"] == 2
        assert (await wait_for_order(api, merchant, order["id"]))["status"] == "PAYMENT_DONE"
    order = await new_order(api, merchant)
    last = await pay(api, merchant, order["id"], DECLINED)
    for attempt_number in (2, 3):
        await wait_for_order(api, merchant, order["id"])
        response = await api.post(f"/payments/{last['id']}/retry", headers=merchant.headers,
                                  json={"payment_method": card(DECLINED)})
        assert response.json()["attempt_number"] == attempt_number
        last = response.json()
    await wait_for_order(api, merchant, order["id"])
    over = await api.post(f"/payments/{last['id']}/retry", headers=merchant.headers,
                          json={"payment_method": card(SUCCESS)})
    assert over.status_code == 409 and over.json()["code"] == "retry_limit_reached"


async def test_retry_and_pay_only_from_the_right_state(api, merchant):
    order = await new_order(api, merchant)
    attempt = await pay(api, merchant, order["id"], SUCCESS)
    await wait_for_order(api, merchant, order["id"])
    again = await api.post("/payments", headers=merchant.headers,
                           json={"order_id": order["id"], "payment_method": card(SUCCESS)})
    assert again.status_code == 409 and again.json()["current_state"] == "PAYMENT_DONE"
    retry = await api.post(f"/payments/{attempt['id']}/retry", headers=merchant.headers,
                           json={"payment_method": card(SUCCESS)})
    assert retry.status_code == 409


async def test_cancel_of_a_paid_order_refunds_it(api, sandbox, merchant):
    order = await new_order(api, merchant)
    await pay(api, merchant, order["id"], SUCCESS)
    await wait_for_order(api, merchant, order["id"])
    cancelled = await api.post(f"/orders/{order['id']}/cancel", headers=merchant.headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "ORDER_CANCELLED"
    assert cancelled.json()["refunds"][0]["status"] == "PENDING"
    for _ in range(100):
        refunds = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()["refunds"]
        if refunds[0]["status"] == "SUCCESS":
            break
        await asyncio.sleep(0.05)
    assert refunds[0]["status"] == "SUCCESS" and refunds[0]["amount"] == 4200


async def test_gateway_timeout_leaves_attempt_pending_until_the_callback(api, merchant):
    order = await new_order(api, merchant)
    attempt = await pay(api, merchant, order["id"], TIMEOUT)
    pending = await wait_for_order(api, merchant, order["id"], statuses={"PAYMENT_IN_PROGRESS"})
    assert pending["payments"][0]["id"] == attempt["id"]
    final = await wait_for_order(api, merchant, order["id"], timeout_s=30)
    assert final["status"] == "PAYMENT_DONE"


async def test_reconciliation_resolves_a_payment_that_never_calls_back(api, merchant, container, live_stack):
    from app.adapters.providers.factory import build_providers
    from app.domain.services.payments import PaymentPolicy, PaymentService
    from config.settings import settings_from_env

    order, attempt = await pending_attempt(api, merchant)
    settings = settings_from_env(live_stack.env)
    providers = build_providers(settings)
    reconciler = PaymentService(container.uow, container.payments._clock, providers, container.payments._cards,
                                PaymentPolicy(pending_timeout_s=0.5), container.payments.gate)
    await asyncio.sleep(0.6)
    counts = await reconciler.reconcile()
    await providers.aclose()
    assert counts["resolved"] >= 1
    final = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
    assert final["status"] == "PAYMENT_DONE" and final["payments"][0]["status"] == "SUCCESS"


async def test_card_number_and_cvc_are_never_stored(api, merchant, container):
    order = await new_order(api, merchant)
    await pay(api, merchant, order["id"], SUCCESS)
    await wait_for_order(api, merchant, order["id"])
    async with container.engine.transaction() as tx:
        dump = await tx.connection.fetchval(
            "SELECT string_agg(t::text, ' ') FROM (SELECT * FROM payment_attempts UNION ALL "
            "SELECT * FROM payment_attempts WHERE false) t")
        outbox = await tx.connection.fetchval("SELECT string_agg(payload::text, ' ') FROM outbox")
    assert SUCCESS not in dump and SUCCESS not in outbox


async def test_legacy_routes_use_seed_001_words(api, merchant):
    created = await api.post("/order/create", json=ORDER, headers=merchant.headers)
    assert created.status_code == 201 and created.json()["status"] == "NEW"
    order_id = created.json()["orderId"]
    requested = await api.post("/payment/request", headers=merchant.headers,
                               json={"order_id": order_id, "payment_method": card(SUCCESS)})
    assert requested.status_code == 202 and requested.json()["orderStatus"] == "PROCESSING"
    for _ in range(100):
        legacy = (await api.get(f"/order/{order_id}", headers=merchant.headers)).json()
        if legacy["status"] == "SUCCESS":
            break
        await asyncio.sleep(0.05)
    assert legacy["status"] == "SUCCESS"


async def test_metrics_expose_http_and_provider_calls(api, merchant):
    order = await new_order(api, merchant)
    await pay(api, merchant, order["id"], SUCCESS)
    await wait_for_order(api, merchant, order["id"])
    assert (await api.get("/metrics")).status_code == 401
    text = (await api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})).text
    # the sandbox accepts at once ("pending") and gives its verdict by callback
    assert 'fxp_provider_calls_total{operation="purchase",outcome="pending",provider="sandbox"}' in text
    assert "fxp_requests_total" in text


async def test_twenty_concurrent_cancels_of_a_paid_order_refund_once(api, merchant, container):
    order = await new_order(api, merchant)
    attempt = await pay(api, merchant, order["id"], SUCCESS)
    await wait_for_order(api, merchant, order["id"])
    responses = await asyncio.gather(*(api.post(f"/orders/{order['id']}/cancel", headers=merchant.headers)
                                       for _ in range(20)))
    assert sorted(r.status_code for r in responses) == [200] + [409] * 19
    for _ in range(100):
        refunds = (await api.get(f"/orders/{order['id']}", headers=merchant.headers)).json()["refunds"]
        if refunds and refunds[0]["status"] == "SUCCESS":
            break
        await asyncio.sleep(0.05)
    assert len(refunds) == 1 and refunds[0]["status"] == "SUCCESS"
    async with container.engine.transaction() as tx:
        count = await tx.connection.fetchval("SELECT count(*) FROM refunds WHERE payment_id = $1",
                                             uuid.UUID(attempt["id"]))
    assert count == 1


async def test_twenty_concurrent_retries_make_one_new_attempt(api, sandbox, merchant):
    order = await new_order(api, merchant)
    first = await pay(api, merchant, order["id"], DECLINED)
    await wait_for_order(api, merchant, order["id"])
    responses = await asyncio.gather(*(
        api.post(f"/payments/{first['id']}/retry", headers=merchant.headers, json={"payment_method": card(SUCCESS)})
        for _ in range(20)))
    accepted = [r for r in responses if r.status_code == 202]
    assert len(accepted) == 1 and all(r.status_code == 409 for r in responses if r.status_code != 202)
    final = await wait_for_order(api, merchant, order["id"])
    assert final["status"] == "PAYMENT_DONE" and len(final["payments"]) == 2
    assert [c["charges"] for c in await charges_for(sandbox, accepted[0].json()["id"])] == [1]

"""Fraud rules over HTTP on real PostgreSQL and Redis: the admin API (whole sets, bad input
changes nothing), block and review on POST /payments, the verdict on GET /payments/{id},
and concurrent review decisions that dispatch at most once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from app.adapters.fraud.velocity import RedisVelocityCounter
from tests.integration.test_http_edge import admin_client
from tests.integration.test_orders_api import create_order

ADMIN_KEY = "fraud-admin-key"
CARD = {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123"}
AMOUNT_RULE = {"id": "big-usd", "priority": 10, "action": "block",
               "condition": {"type": "amount_limit", "currency": "USD", "max_amount": 1000}}


@pytest.fixture
async def admin(container):
    async with admin_client(container, ADMIN_KEY) as client:
        yield client


async def put_rules(admin, merchant, *rules: dict) -> httpx.Response:
    return await admin.put(f"/admin/merchants/{merchant.id}/fraud-rules", json={"rules": list(rules)})


async def pay(client, merchant) -> dict:
    order = await create_order(client, merchant)
    response = await client.post("/payments", headers=merchant.headers,
                                 json={"order_id": order["id"], "payment_method": CARD})
    assert response.status_code == 202, response.text
    return response.json()


async def requested_events(container, attempt_id: str) -> int:
    async with container.engine.transaction() as tx:
        return await tx.connection.fetchval(
            "SELECT count(*) FROM outbox WHERE event_type = 'payment.requested' AND aggregate_id = $1",
            uuid.UUID(attempt_id))


async def test_rules_are_stored_whole_and_read_back_in_evaluation_order(admin, merchant):
    velocity = {"id": "ip-burst", "priority": 5, "action": "review",
                "condition": {"type": "velocity", "subject": "ip", "max_attempts": 3, "window_s": 60}}
    stored = await put_rules(admin, merchant, AMOUNT_RULE, velocity)
    assert stored.status_code == 200, stored.text
    read = (await admin.get(f"/admin/merchants/{merchant.id}/fraud-rules")).json()
    assert [rule["id"] for rule in read["rules"]] == ["ip-burst", "big-usd"]
    assert read["rules"][1] == {**AMOUNT_RULE, "score": None}


BAD_RULES = [
    ("unknown field", {**AMOUNT_RULE, "colour": "red"}, 400, "validation_failed"),
    ("unknown condition", {**AMOUNT_RULE, "condition": {"type": "moon_phase"}}, 400, "validation_failed"),
    ("zero window", {**AMOUNT_RULE, "condition": {"type": "velocity", "subject": "ip", "max_attempts": 1,
                                                  "window_s": 0}}, 422, "invalid_fraud_window"),
    ("year-long window", {**AMOUNT_RULE, "condition": {"type": "card_failures", "max_failures": 3,
                                                       "window_s": 366 * 86400}}, 422, "invalid_fraud_window"),
    ("bad CIDR", {**AMOUNT_RULE, "condition": {"type": "block_list", "list": "ip",
                                               "values": ["10.0.0.0/8", "300.1.1.0/24"]}}, 422, "invalid_cidr"),
    ("bad BIN", {**AMOUNT_RULE, "condition": {"type": "block_list", "list": "bin", "values": ["42x424"]}},
     422, "invalid_bin"),
    ("bad action", {**AMOUNT_RULE, "action": "shrug"}, 400, "validation_failed"),
]


@pytest.mark.parametrize(("name", "rule", "status", "code"), BAD_RULES, ids=[b[0] for b in BAD_RULES])
async def test_a_bad_rule_is_a_problem_and_changes_nothing(admin, merchant, name, rule, status, code):
    assert (await put_rules(admin, merchant, AMOUNT_RULE)).status_code == 200
    good = {**AMOUNT_RULE, "id": "other"}
    response = await put_rules(admin, merchant, good, rule)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    read = (await admin.get(f"/admin/merchants/{merchant.id}/fraud-rules")).json()
    assert [r["id"] for r in read["rules"]] == ["big-usd"]


async def test_rules_of_an_unknown_merchant_are_404(admin):
    response = await admin.put(f"/admin/merchants/{uuid.uuid4()}/fraud-rules", json={"rules": [AMOUNT_RULE]})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


async def test_block_fails_the_payment_and_the_verdict_is_shown(client, admin, merchant):
    assert (await put_rules(admin, merchant, AMOUNT_RULE)).status_code == 200
    payment = await pay(client, merchant)
    assert payment["status"] == "FAILED" and payment["failure_code"] == "fraud_blocked"
    shown = (await client.get(f"/payments/{payment['id']}", headers=merchant.headers)).json()
    assert shown["fraud"]["action"] == "block" and shown["fraud"]["rule_id"] == "big-usd"
    assert shown["fraud"]["risk_score"] == 100 and shown["fraud"]["reasons"][0].startswith("big-usd: amount")
    order = (await client.get(f"/orders/{payment['order_id']}", headers=merchant.headers)).json()
    assert order["status"] == "PAYMENT_FAILED"


async def test_no_matching_rule_is_an_allow_verdict(client, admin, merchant):
    assert (await put_rules(admin, merchant, {**AMOUNT_RULE, "condition": {
        "type": "amount_limit", "currency": "EUR", "max_amount": 1}})).status_code == 200
    payment = await pay(client, merchant)
    assert payment["fraud"] == {"action": "allow", "rule_id": None, "risk_score": 0, "reasons": []}
    assert payment["card_fingerprint"]


@pytest.mark.parametrize("second", ["approve", "reject"])
async def test_concurrent_review_decisions_dispatch_at_most_once(client, admin, merchant, container, second):
    assert (await put_rules(admin, merchant, {**AMOUNT_RULE, "action": "review"})).status_code == 200
    payment = await pay(client, merchant)
    assert payment["status"] == "REQUIRES_REVIEW" and await requested_events(container, payment["id"]) == 0
    order = (await client.get(f"/orders/{payment['order_id']}", headers=merchant.headers)).json()
    assert order["status"] == "PAYMENT_IN_PROGRESS"
    listed = (await admin.get("/admin/reviews")).json()
    assert payment["id"] in [review["payment_id"] for review in listed["data"]]

    first, other = await asyncio.gather(admin.post(f"/admin/reviews/{payment['id']}/approve"),
                                        admin.post(f"/admin/reviews/{payment['id']}/{second}"))
    assert sorted([first.status_code, other.status_code]) == [200, 409], (first.text, other.text)
    winner = first if first.status_code == 200 else other
    expected = 1 if winner is first or second == "approve" else 0
    assert await requested_events(container, payment["id"]) == expected
    if expected == 0:
        assert winner.json()["failure_code"] == "fraud_rejected"


async def test_velocity_counts_are_atomic_across_clients(container, settings):
    """Two Redis connections (as two API processes have) hitting one subject at once:
    every attempt gets its own count, none is lost or counted twice."""
    import redis.asyncio as redis_async

    clients = [redis_async.Redis.from_url(settings.redis.url) for _ in range(2)]
    counters = [RedisVelocityCounter(c, prefix=f"fxp:test:{uuid.uuid4()}") for c in clients]
    counters[1]._prefix = counters[0]._prefix
    merchant_id, now = uuid.uuid4(), datetime.now(UTC)
    results = await asyncio.gather(*[
        counters[i % 2].hit(merchant_id, {"ip": ("203.0.113.9", frozenset({60, 3600}))}, f"a{i}", now)
        for i in range(100)])
    assert sorted(result[("ip", 60)] for result in results) == list(range(1, 101))
    assert sorted(result[("ip", 3600)] for result in results) == list(range(1, 101))
    for c in clients:
        await c.aclose()


async def test_the_fingerprint_is_the_vaults_for_saved_and_raw_cards(client, admin, merchant):
    saved = await client.post("/cards", headers=merchant.headers, json={
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2035, "cvc": "123", "holder_name": "Ada L"})
    assert saved.status_code == 201, saved.text
    raw = await pay(client, merchant)
    order = await create_order(client, merchant)
    by_token = await client.post("/payments", headers=merchant.headers, json={
        "order_id": order["id"], "payment_method": {"type": "card_token", "token": saved.json()["token"]}})
    assert by_token.status_code == 202, by_token.text
    assert raw["card_fingerprint"] == by_token.json()["card_fingerprint"] == saved.json()["fingerprint"]
    listed = {"id": "stolen", "priority": 1, "action": "block",
              "condition": {"type": "block_list", "list": "card_fingerprint", "values": [raw["card_fingerprint"]]}}
    assert (await put_rules(admin, merchant, listed)).status_code == 200
    assert (await pay(client, merchant))["failure_code"] == "fraud_blocked"

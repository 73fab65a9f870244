"""GET/PUT /me/notification-preferences: a customer's own, a merchant's for its guests;
bad addresses and names are problems (4xx), never stored; orders refuse non-E.164 phones."""

from __future__ import annotations

import uuid

import pytest

PASSWORD = "Correct-Horse-Battery-42"
PATH = "/me/notification-preferences"
DEFAULTS = {"payment_receipt": ["email"], "payment_failed": ["email"], "refund_issued": ["email"],
            "order_cancelled": ["email"], "fulfillment_started": ["email"]}


@pytest.fixture
async def customer(client, merchant, container):
    keys = [key async for key in container.redis.scan_iter(match="fxp:login-failures:*")]
    if keys:
        await container.redis.delete(*keys)
    response = await client.post("/auth/register", json={
        "merchant_id": merchant.id, "email": f"shopper-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_a_customer_reads_defaults_then_chooses(client, customer):
    first = await client.get(PATH, headers=customer)
    assert first.status_code == 200 and first.json() == {"channels": DEFAULTS, "email": None, "phone": None,
                                                          "applies_to": "user"}
    chosen = {"channels": {"payment_receipt": ["sms", "email"], "refund_issued": []}, "phone": "+1 415 555 0100"}
    put = await client.put(PATH, json=chosen, headers=customer)
    assert put.status_code == 200, put.text
    expected = {"channels": {**DEFAULTS, "payment_receipt": ["email", "sms"], "refund_issued": []}, "email": None,
                "phone": "+14155550100", "applies_to": "user"}
    assert put.json() == expected and (await client.get(PATH, headers=customer)).json() == expected


async def test_a_merchant_chooses_for_its_guests_and_customers_keep_their_own(client, merchant, customer,
                                                                               other_merchant):
    put = await client.put(PATH, json={"channels": {"payment_failed": ["sms"]}}, headers=merchant.headers)
    assert put.status_code == 200 and put.json()["applies_to"] == "guest_customers"
    assert (await client.get(PATH, headers=merchant.headers)).json()["channels"]["payment_failed"] == ["sms"]
    assert (await client.get(PATH, headers=customer)).json()["channels"]["payment_failed"] == ["email"]
    assert (await client.get(PATH, headers=other_merchant.headers)).json()["channels"] == DEFAULTS


@pytest.mark.parametrize("body, status, code", [
    ({"email": "not-an-email"}, 422, "invalid_email"),
    ({"phone": "4155550100"}, 422, "invalid_phone"),
    ({"phone": "+1 415 abc"}, 422, "invalid_phone"),
    ({"channels": {"newsletter": ["email"]}}, 400, "validation_failed"),
    ({"channels": {"x-schemathesis-additional": ["sms"]}}, 400, "validation_failed"),
    ({"channels": {"payment_receipt": ["pigeon"]}}, 400, "validation_failed"),
    ({"channels": {}, "fax": "+14155550100"}, 400, "validation_failed"),
])
async def test_bad_preferences_are_problems_and_nothing_is_stored(client, customer, body, status, code):
    response = await client.put(PATH, json=body, headers=customer)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert (await client.get(PATH, headers=customer)).json()["channels"] == DEFAULTS


async def test_empty_addresses_are_none(client, customer):
    response = await client.put(PATH, json={"channels": {"payment_failed": None}, "email": "", "phone": ""},
                                headers=customer)
    assert response.status_code == 200 and response.json()["email"] is None and response.json()["phone"] is None


async def test_no_credentials_no_preferences(client):
    assert (await client.get(PATH)).status_code == 401


@pytest.mark.parametrize("phone", ["4155550100", "+0155550100", "+1 415 555 0100", "+1234567890123456"])
async def test_orders_refuse_phones_that_are_not_e164(client, merchant, phone):
    response = await client.post("/orders", headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex}, json={
        "currency": "USD", "amount": 1000, "customer": {"email": "a@example.com", "phone": phone}})
    assert response.status_code == 400 and response.json()["code"] == "validation_failed"


async def test_orders_take_an_e164_phone(client, merchant):
    response = await client.post("/orders", headers={**merchant.headers, "Idempotency-Key": uuid.uuid4().hex}, json={
        "currency": "USD", "amount": 1000, "customer": {"email": "a@example.com", "phone": "+14155550100"}})
    assert response.status_code == 201 and response.json()["customer"]["phone"] == "+14155550100"

"""Paying with saved cards end to end (API and sandbox processes): a customer's token pays
its orders; two orders paid at once with one card both go through, each charged once."""

from __future__ import annotations

import asyncio
import uuid

from tests.e2e.conftest import wait_for_order

ORDER = {"amount": 3100, "currency": "USD", "items": [{"name": "Kettle", "quantity": 1, "unit_amount": 3100}]}
CARD = {"number": "4242424242424242", "exp_month": 10, "exp_year": 2034, "cvc": "321", "holder_name": "Ada L"}


async def test_two_orders_paid_at_once_with_one_saved_card_both_succeed(api, sandbox, merchant):
    registered = await api.post("/auth/register", json={"merchant_id": merchant.id, "password": "Kettle-Passphrase-88",
                                                        "email": f"ada-{uuid.uuid4().hex[:8]}@example.com"})
    assert registered.status_code == 201, registered.text
    shopper = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    token = (await api.post("/cards", headers=shopper, json=CARD)).json()["token"]
    orders = [(await api.post("/orders", headers=shopper, json=ORDER)).json() for _ in range(2)]
    responses = await asyncio.gather(*[
        api.post("/payments", headers={**shopper, "Idempotency-Key": str(uuid.uuid4())},
                 json={"order_id": order["id"], "payment_method": {"type": "card_token", "token": token}})
        for order in orders])
    assert [r.status_code for r in responses] == [202, 202], [r.text for r in responses]
    for order, response in zip(orders, responses):
        assert response.json()["card_last4"] == "4242"
        final = await wait_for_order(api, type("Shopper", (), {"headers": shopper}), order["id"])
        assert final["status"] == "PAYMENT_DONE"
        charges = [c for c in (await sandbox.get("/_sandbox/charges")).json()["data"]
                   if c["idempotency_key"] == response.json()["id"]]
        assert [c["charges"] for c in charges] == [1]

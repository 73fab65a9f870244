"""The card vault over HTTP against real PostgreSQL and Redis: tokenize, list, read,
delete; who sees which card; bad cards; what the database and Redis hold."""

from __future__ import annotations

import pytest

from app.adapters.db.tables import SavedCardTable

CARD = {"number": "4242 4242 4242 4242", "exp_month": 12, "exp_year": 2034, "cvc": "737", "holder_name": "Ada L"}


async def test_tokenize_answers_token_brand_last4_expiry_fingerprint_only(client, merchant, register, container):
    user = await register(merchant)
    response = await client.post("/cards", headers=user.headers, json=CARD)
    assert response.status_code == 201, response.text
    card = response.json()
    assert card["token"].startswith("card_") and (card["brand"], card["last4"]) == ("visa", "4242")
    assert (card["exp_month"], card["exp_year"], card["customer_id"]) == (12, 2034, user.id)
    assert "number" not in card and "cvc" not in card and "4242424242424242" not in response.text
    row = await SavedCardTable.select().where(SavedCardTable.token == card["token"]).first().run()
    assert b"4242424242424242" not in bytes(row["pan_sealed"]) and row["key_id"] == container.vault._sealer.current_key_id
    cached = await container.redis.get(f"fxp:cvc:{card['token']}")
    assert cached is not None and b"737" not in cached.split(b":", 1)[1]  # sealed, not the digits


async def test_same_card_same_fingerprint_within_a_merchant_only(client, merchant, other_merchant, register):
    user = await register(merchant)
    first = (await client.post("/cards", headers=user.headers, json=CARD)).json()
    again = (await client.post("/cards", headers=merchant.headers, json={**CARD, "number": "4242424242424242"})).json()
    elsewhere = (await client.post("/cards", headers=other_merchant.headers, json=CARD)).json()
    assert first["fingerprint"] == again["fingerprint"] != elsewhere["fingerprint"]
    assert first["token"] != again["token"]


@pytest.mark.parametrize(("change", "status", "code"), [
    ({"number": "4242424242424241"}, 422, "incorrect_number"),
    ({"exp_year": 2020}, 422, "expired_card"),
    ({"exp_month": 13}, 400, "validation_failed"),
    ({"cvc": "12"}, 422, "invalid_cvc"),
    ({"cvc": "12345"}, 422, "invalid_cvc"),
    ({"holder_name": "  "}, 422, "invalid_holder_name"),
    ({"number": "4242-abcd-4242-4242"}, 400, "validation_failed"),
])
async def test_bad_cards_are_refused_and_nothing_is_saved(client, merchant, change, status, code):
    before = await SavedCardTable.count().where(SavedCardTable.merchant_id == merchant.id).run()
    response = await client.post("/cards", headers=merchant.headers, json={**CARD, **change})
    assert response.status_code == status and response.json()["code"] == code, response.text
    assert await SavedCardTable.count().where(SavedCardTable.merchant_id == merchant.id).run() == before


async def test_customers_see_their_own_cards_merchants_see_all(client, merchant, other_merchant, register):
    ada, bob = await register(merchant), await register(merchant)
    card = (await client.post("/cards", headers=ada.headers, json=CARD)).json()
    assert (await client.get(f"/cards/{card['token']}", headers=ada.headers)).status_code == 200
    assert (await client.get(f"/cards/{card['token']}", headers=merchant.headers)).status_code == 200
    for outsider in (bob.headers, other_merchant.headers):
        response = await client.get(f"/cards/{card['token']}", headers=outsider)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
        assert (await client.delete(f"/cards/{card['token']}", headers=outsider)).status_code == 404
    assert [c["token"] for c in (await client.get("/cards", headers=ada.headers)).json()["data"]] == [card["token"]]
    assert (await client.get("/cards", headers=bob.headers)).json()["data"] == []


async def test_delete_is_soft_and_keeps_no_number(client, merchant, register, container):
    user = await register(merchant)
    card = (await client.post("/cards", headers=user.headers, json=CARD)).json()
    assert (await client.delete(f"/cards/{card['token']}", headers=user.headers)).status_code == 204
    assert (await client.get(f"/cards/{card['token']}", headers=user.headers)).status_code == 404
    assert (await client.delete(f"/cards/{card['token']}", headers=user.headers)).status_code == 404
    assert (await client.get("/cards", headers=user.headers)).json()["data"] == []
    row = await SavedCardTable.select().where(SavedCardTable.token == card["token"]).first().run()
    assert row["deleted_at"] is not None and row["pan_sealed"] is None and row["last4"] == "4242"
    assert await container.redis.get(f"fxp:cvc:{card['token']}") is None


async def test_unknown_and_malformed_tokens(client, merchant):
    assert (await client.get("/cards/card_doesnotexist1234", headers=merchant.headers)).status_code == 404
    malformed = await client.get("/cards/not-a-card-token", headers=merchant.headers)
    assert malformed.status_code == 400 and malformed.json()["code"] == "validation_failed"


@pytest.mark.parametrize("case", ["deleted", "other_customer", "unknown", "expired"])
async def test_unusable_tokens_cannot_pay_and_create_no_attempt(client, merchant, register, container, case):
    owner, payer = await register(merchant), await register(merchant)
    card = (await client.post("/cards", headers=(owner if case == "other_customer" else payer).headers,
                              json=CARD)).json()
    token = card["token"] if case != "unknown" else "card_doesnotexist1234"
    if case == "deleted":
        await client.delete(f"/cards/{token}", headers=payer.headers)
    if case == "expired":
        await SavedCardTable.update({SavedCardTable.exp_year: 2021}).where(SavedCardTable.token == token).run()
    order = (await client.post("/orders", headers=payer.headers, json={
        "amount": 900, "currency": "USD", "items": [{"name": "Pen", "quantity": 1, "unit_amount": 900}]})).json()
    response = await client.post("/payments", headers=payer.headers,
                                 json={"order_id": order["id"], "payment_method": {"type": "card_token", "token": token}})
    expected = "expired_card" if case == "expired" else "invalid_card_token"
    assert response.status_code == 422 and response.json()["code"] == expected, response.text
    after = (await client.get(f"/orders/{order['id']}", headers=payer.headers)).json()
    assert after["status"] == "CREATED" and after["payments"] == []

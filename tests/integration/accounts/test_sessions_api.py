"""Register, log in, refresh (rotation, reuse detection, concurrent refresh), log out,
change password: over HTTP against real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio

from app.adapters.db.tables import RefreshTokenTable
from tests.integration.accounts.conftest import PASSWORD


async def test_register_then_me_with_the_access_token(client, merchant, register):
    user = await register(merchant, "Ada.Lovelace@Example.com")
    me = await client.get("/me", headers=user.headers)
    assert me.status_code == 200
    assert me.json()["email"] == "ada.lovelace@example.com" and me.json()["role"] == "customer"
    assert me.json()["merchant_id"] == merchant.id and "password_hash" not in me.json()


async def test_login_answers_a_bearer_pair(client, merchant, register, login):
    user = await register(merchant)
    response = await client.post("/auth/login", json={"email": user.email, "password": PASSWORD,
                                                      "merchant_id": merchant.id})
    body = response.json()
    assert response.status_code == 200 and body["token_type"] == "Bearer"
    assert 0 < body["expires_in"] <= 900 and body["refresh_token"].startswith("rt_")


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(client, merchant, register):
    user = await register(merchant)
    first = await client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != user.refresh_token
    assert (await client.get("/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})).status_code == 200

    reused = await client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
    assert reused.status_code == 401 and reused.json()["code"] == "refresh_token_reused"
    # the thief's copy is spent, and so is the honest newer one, and the family's access tokens
    newer = await client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert newer.status_code == 401 and newer.json()["code"] == "invalid_refresh_token"
    me = await client.get("/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert me.status_code == 401 and me.json()["code"] == "session_revoked"


async def test_two_concurrent_refreshes_one_wins_then_the_family_is_revoked(client, merchant, register):
    user = await register(merchant)
    responses = await asyncio.gather(*[client.post("/auth/refresh", json={"refresh_token": user.refresh_token})
                                       for _ in range(2)])
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 401], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 401)
    assert loser.json()["code"] == "refresh_token_reused"
    winner = next(r for r in responses if r.status_code == 200).json()
    tokens = await RefreshTokenTable.select().where(RefreshTokenTable.user_id == user.id).run()
    assert len(tokens) == 2  # the original and exactly one successor
    assert all(token["revoked_at"] is not None for token in tokens)
    after = await client.post("/auth/refresh", json={"refresh_token": winner["refresh_token"]})
    assert after.status_code == 401


async def test_logout_revokes_refresh_and_access_tokens(client, merchant, register, login):
    user = await register(merchant)
    other = await login(user.email, merchant_id=merchant.id)  # another device: a separate login
    response = await client.post("/auth/logout", json={"refresh_token": user.refresh_token})
    assert response.status_code == 204
    assert (await client.post("/auth/refresh", json={"refresh_token": user.refresh_token})).status_code == 401
    assert (await client.get("/me", headers=user.headers)).json()["code"] == "session_revoked"
    assert (await client.get("/me", headers=other.headers)).status_code == 200


async def test_password_change_ends_every_session(client, merchant, register, login):
    user = await register(merchant)
    phone = await login(user.email, merchant_id=merchant.id)
    changed = await client.post("/me/password", headers=user.headers,
                                json={"current_password": PASSWORD, "new_password": "Another-Long-Passphrase-7"})
    assert changed.status_code == 200
    fresh = changed.json()
    for old in (user, phone):
        assert (await client.get("/me", headers=old.headers)).status_code == 401
        assert (await client.post("/auth/refresh", json={"refresh_token": old.refresh_token})).status_code == 401
    assert (await client.get("/me", headers={"Authorization": f"Bearer {fresh['access_token']}"})).status_code == 200
    old_password = await client.post("/auth/login", json={"email": user.email, "password": PASSWORD,
                                                          "merchant_id": merchant.id})
    assert old_password.status_code == 401
    await login(user.email, "Another-Long-Passphrase-7", merchant.id)


async def test_password_change_needs_the_current_password(client, merchant, register):
    user = await register(merchant)
    response = await client.post("/me/password", headers=user.headers,
                                 json={"current_password": "wrong-password-0", "new_password": "Another-Long-Pass-8"})
    assert response.status_code == 401 and response.json()["code"] == "invalid_credentials"
    assert (await client.get("/me", headers=user.headers)).status_code == 200  # nothing ended

"""Merchant management over HTTP on real PostgreSQL and Redis: the admin API (bad input
as problems), API key rotation with its grace period, webhook secret rotation (two
signatures during the overlap), re-enabling, deactivation taking effect at once in
another API instance (its own key cache), and concurrent duplicates with one effect."""

from __future__ import annotations

import asyncio
import uuid

import msgspec
import pytest
from standardwebhooks import Webhook

from app.adapters.db.merchant_secrets import WebhookSecretBox, reseal_webhook_secrets
from app.adapters.db.tables import MerchantTable
from app.adapters.notify.delivery_log import PiccoloWebhookStore
from app.adapters.notify.webhooks import signed_request
from app.adapters.queue.processed_events import PiccoloProcessedEvents
from app.adapters.vault.keys import vault_keyring
from tests.integration.test_http_edge import admin_client

ADMIN_KEY = "merchants-admin-key"
VAULT_KEYS = "v1:" + "a" * 43 + "=,v2:" + "b" * 43 + "="


@pytest.fixture
async def admin(container):
    async with admin_client(container, ADMIN_KEY) as client:
        yield client


async def create(admin, **body) -> dict:
    response = await admin.post("/admin/merchants", json={"name": "Shop", "webhook_url": "https://shop.example/h",
                                                          **body})
    assert response.status_code == 201, response.text
    return response.json()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_create_list_show_update(admin):
    created = await create(admin, name="Listed shop")
    merchant_id = created["merchant"]["id"]
    assert created["api_key"].startswith("sk_test_") and created["webhook_secret"].startswith("whsec_")
    shown = (await admin.get(f"/admin/merchants/{merchant_id}")).json()
    assert shown["name"] == "Listed shop" and shown["active"] and shown["webhook_enabled"]
    assert [k["live"] for k in shown["api_keys"]] == [True] and "api_key_hash" not in shown
    listed, cursor = [], None
    for _ in range(100):  # the session's database holds every test's merchants: page through them
        page = (await admin.get("/admin/merchants", params={"limit": 100, **({"cursor": cursor} if cursor else {})})).json()
        listed += [m["id"] for m in page["data"]]
        if merchant_id in listed or not (cursor := page["next_cursor"]):
            break
    assert merchant_id in listed
    updated = await admin.patch(f"/admin/merchants/{merchant_id}",
                                json={"name": "Renamed", "webhook_url": "https://shop.example/v2"})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["name"], updated.json()["webhook_url"]) == ("Renamed", "https://shop.example/v2")
    renamed = (await admin.patch(f"/admin/merchants/{merchant_id}", json={"name": "Only name"})).json()
    assert renamed["webhook_url"] == "https://shop.example/v2"


async def test_list_pages_with_a_cursor(admin):
    for n in range(3):
        await create(admin, name=f"Paged {n}")
    first = (await admin.get("/admin/merchants", params={"limit": 2})).json()
    assert len(first["data"]) == 2 and first["has_more"] and first["next_cursor"]
    second = (await admin.get("/admin/merchants", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert not {m["id"] for m in first["data"]} & {m["id"] for m in second["data"]}


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("patch", "{id}", {"name": 5}, 400, "validation_failed"),
    ("patch", "{id}", {"nickname": "x"}, 400, "validation_failed"),
    ("patch", "{id}", {"webhook_url": "not a url"}, 422, "invalid_webhook_url"),
    ("patch", "{id}", {"webhook_url": "https://user:pw@shop.example/h"}, 422, "invalid_webhook_url"),
    ("patch", "{id}", {"webhook_url": "http://127.0.0.1:9/h"}, 422, "webhook_target_refused"),
    ("patch", "{id}", {"webhook_url": "http://10.0.0.8/h"}, 422, "webhook_target_refused"),
    ("patch", "{id}", {"name": ""}, 400, "validation_failed"),
    ("post", "{id}/api-key/rotate", {"grace_period_s": -1}, 400, "validation_failed"),
    ("post", "{id}/api-key/rotate", {"grace_period_s": "60"}, 400, "validation_failed"),
    ("post", "{id}/api-key/rotate", {"grace_period_s": 10 ** 9}, 400, "validation_failed"),
    ("post", "{id}/webhook-secret/rotate", {"overlap": 5}, 400, "validation_failed"),
    ("patch", "00000000-0000-0000-0000-000000000000", {"name": "x"}, 404, "not_found"),
    ("post", "00000000-0000-0000-0000-000000000000/deactivate", None, 404, "not_found"),
    ("post", "00000000-0000-0000-0000-000000000000/api-key/rotate", None, 404, "not_found"),
    ("get", "not-a-uuid", None, 404, "not_found"),
])
async def test_bad_input_is_a_problem(admin, method, path, body, status, code):
    merchant_id = (await create(admin))["merchant"]["id"]
    kwargs = {"json": body} if body is not None else {}
    response = await getattr(admin, method)(f"/admin/merchants/{path.format(id=merchant_id)}", **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


async def test_merchant_keys_and_other_callers_are_refused(admin, client):
    created = await create(admin)
    response = await client.get("/admin/merchants", headers=auth(created["api_key"]))
    assert response.status_code in (403, 404)  # a merchant key is no admin credential


async def test_rotated_key_works_until_its_grace_ends_then_401(admin, client):
    created = await create(admin)
    merchant_id, old_key = created["merchant"]["id"], created["api_key"]
    assert (await client.get("/orders", headers=auth(old_key))).status_code == 200  # cached by that instance
    rotated = (await admin.post(f"/admin/merchants/{merchant_id}/api-key/rotate", json={"grace_period_s": 2})).json()
    new_key = rotated["api_key"]
    assert new_key and new_key != old_key and not rotated["replayed"] and rotated["previous_key_expires_at"]
    assert (await client.get("/orders", headers=auth(old_key))).status_code == 200
    assert (await client.get("/orders", headers=auth(new_key))).status_code == 200
    await asyncio.sleep(2.2)
    assert (await client.get("/orders", headers=auth(old_key))).status_code == 401
    assert (await client.get("/orders", headers=auth(new_key))).status_code == 200
    keys = (await admin.get(f"/admin/merchants/{merchant_id}")).json()["api_keys"]
    assert [k["live"] for k in keys] == [False, True]


async def test_deactivation_takes_effect_at_once_in_another_api_instance(admin, client):
    created = await create(admin)
    merchant_id, key = created["merchant"]["id"], created["api_key"]
    # `client` is another app (its own in-process key cache), as another API process would be.
    assert (await client.get("/orders", headers=auth(key))).status_code == 200
    answer = (await admin.post(f"/admin/merchants/{merchant_id}/deactivate")).json()
    assert answer["changed"] and not answer["merchant"]["active"]
    refused = await client.get("/orders", headers=auth(key))
    assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
    again = (await admin.post(f"/admin/merchants/{merchant_id}/deactivate")).json()
    assert not again["changed"]
    assert (await admin.get(f"/admin/merchants/{merchant_id}")).json()["name"] == "Shop"  # nothing deleted
    rotate = await admin.post(f"/admin/merchants/{merchant_id}/api-key/rotate")
    assert rotate.status_code == 409 and rotate.json()["code"] == "merchant_deactivated"


async def test_concurrent_duplicate_key_rotations_have_one_effect(admin, container):
    created = await create(admin)
    merchant_id = created["merchant"]["id"]
    answers = await asyncio.gather(*(admin.post(f"/admin/merchants/{merchant_id}/api-key/rotate",
                                                headers={"Idempotency-Key": "rotate-once"}) for _ in range(8)))
    assert {a.status_code for a in answers} == {200}
    fresh = [a.json() for a in answers if not a.json()["replayed"]]
    assert len(fresh) == 1 and fresh[0]["api_key"]
    assert all(a.json()["api_key"] is None for a in answers if a.json()["replayed"])
    rows = await MerchantTable.raw("SELECT count(*) AS n FROM merchant_api_keys WHERE merchant_id = {}",
                                   uuid.UUID(merchant_id)).run()
    assert rows[0]["n"] == 2


async def test_concurrent_reenables_have_one_effect(admin):
    created = await create(admin)
    merchant_id = created["merchant"]["id"]
    await MerchantTable.update({MerchantTable.webhook_enabled: False}).where(
        MerchantTable.id == uuid.UUID(merchant_id)).run()  # as a 410 Gone leaves it
    answers = await asyncio.gather(*(admin.post(f"/admin/merchants/{merchant_id}/webhooks/enable")
                                     for _ in range(8)))
    assert {a.status_code for a in answers} == {200}
    assert [a.json()["changed"] for a in answers].count(True) == 1
    assert (await admin.get(f"/admin/merchants/{merchant_id}")).json()["webhook_enabled"]


async def test_webhook_secret_rotation_signs_with_both_during_the_overlap(admin, container):
    created = await create(admin)
    merchant_id = uuid.UUID(created["merchant"]["id"])
    rotated = (await admin.post(f"/admin/merchants/{merchant_id}/webhook-secret/rotate", json={"overlap_s": 3600},
                                headers={"Idempotency-Key": "secret-1"})).json()
    assert rotated["webhook_secret"] != created["webhook_secret"] and rotated["previous_secret_expires_at"]
    replay = (await admin.post(f"/admin/merchants/{merchant_id}/webhook-secret/rotate", json={"overlap_s": 3600},
                               headers={"Idempotency-Key": "secret-1"})).json()
    assert replay["replayed"] and replay["webhook_secret"] is None
    endpoint = await container.webhooks.endpoint(merchant_id)
    assert endpoint.secret == rotated["webhook_secret"] and endpoint.also_sign_with == (created["webhook_secret"],)
    body, headers = signed_request(endpoint.secret, "msg_1", {"type": "ping"}, None,
                                   also_sign_with=endpoint.also_sign_with)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (created["webhook_secret"], rotated["webhook_secret"]):  # a receiver with either verifies
        Webhook(secret).verify(body, headers)


async def test_webhook_secrets_are_sealed_at_rest_with_the_vault_keys(container):
    settings = msgspec.structs.replace(container.settings, vault=msgspec.structs.replace(
        container.settings.vault, keys=VAULT_KEYS.split(",")[0]))
    from app.bootstrap import build_container

    sealed_container = build_container(settings, engine=container.engine, redis=container.redis)
    created = await sealed_container.merchants.create("Sealed shop", "https://shop.example/h")
    row = await MerchantTable.select(MerchantTable.webhook_secret).where(
        MerchantTable.id == created.merchant.id).first().run()
    assert row["webhook_secret"].startswith("sealed:v1:") and created.webhook_secret not in row["webhook_secret"]
    endpoint = await sealed_container.webhooks.endpoint(created.merchant.id)
    assert endpoint.secret == created.webhook_secret
    assert (await sealed_container.merchants.get(created.merchant.id)).webhook_secret == created.webhook_secret
    # A value from before sealing reads as it is; adding a key and re-sealing moves it.
    legacy = await container.merchants.create("Clear shop")  # no key configured: stored as it is
    newer = WebhookSecretBox(vault_keyring(msgspec.structs.replace(settings, vault=msgspec.structs.replace(
        settings.vault, keys=VAULT_KEYS))))
    assert await reseal_webhook_secrets(container.engine, newer) >= 2
    rows = {r["id"]: r["webhook_secret"] for r in await MerchantTable.select(
        MerchantTable.id, MerchantTable.webhook_secret).where(
        MerchantTable.id.is_in([created.merchant.id, legacy.merchant.id])).run()}
    assert all(value.startswith("sealed:v2:") for value in rows.values())
    store = PiccoloWebhookStore(container.engine, PiccoloProcessedEvents(), newer)
    assert (await store.endpoint(legacy.merchant.id)).secret == legacy.webhook_secret
    assert (await store.endpoint(created.merchant.id)).secret == created.webhook_secret
    # Bound to its merchant: copied to another row it does not open.
    await MerchantTable.update({MerchantTable.webhook_secret: rows[created.merchant.id]}).where(
        MerchantTable.id == legacy.merchant.id).run()
    assert (await store.endpoint(legacy.merchant.id)).secret.startswith("sealed:")  # not opened, never used
    # A process without the key still lists and manages the merchant, and keeps the sealed value.
    renamed = await container.merchants.update(legacy.merchant.id, name="Renamed")
    assert renamed.name == "Renamed" and await container.merchants.list(5)
    row = await MerchantTable.select(MerchantTable.webhook_secret).where(
        MerchantTable.id == legacy.merchant.id).first().run()
    assert row["webhook_secret"] == rows[created.merchant.id]
    # Under a key no longer listed: re-sealing leaves it (logged), it does not stop the run.
    await MerchantTable.update({MerchantTable.webhook_secret: "sealed:v9:AAAA"}).where(
        MerchantTable.id == legacy.merchant.id).run()
    await reseal_webhook_secrets(container.engine, newer)

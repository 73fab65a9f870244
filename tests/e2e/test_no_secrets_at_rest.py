"""No secret at rest or in logs: pay with raw cards and with saved-card tokens through the
real API and sandbox processes, then search a full pg_dump of the test database, every
Redis key and value, the outbox, the webhook delivery log and every API log line for the
card numbers, CVCs, passwords, refresh and access tokens and the API key."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

import pgserver
from tests.e2e.conftest import wait_for_order
from tests.e2e.live_stack import LiveStack

# Card numbers no other test uses (the sandbox approves unknown numbers), distinctive CVCs.
CUSTOMER_PAN, RAW_PAN, MERCHANT_PAN = "4111734091110009", "5200082828282108", "4222555577772202"
CVCS = ("8517", "9264", "7083")
PASSWORDS = ("Secret-Passphrase-Alpha-31", "Secret-Passphrase-Bravo-47")
ORDER = {"amount": 1999, "currency": "USD", "items": [{"name": "Scarf", "quantity": 1, "unit_amount": 1999}]}


def card(number: str, cvc: str) -> dict:
    return {"number": number, "exp_month": 11, "exp_year": 2034, "cvc": cvc, "holder_name": "Grace Hopper"}


def pg_dump_binary() -> str:
    bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"
    return str(bundled) if bundled.exists() else shutil.which("pg_dump") or "pg_dump"


async def redis_contents(redis) -> str:
    parts = []
    async for key in redis.scan_iter(count=500):
        kind = (await redis.type(key)).decode()
        value = {"string": redis.get, "hash": redis.hgetall, "list": lambda k: redis.lrange(k, 0, -1),
                 "set": redis.smembers, "zset": lambda k: redis.zrange(k, 0, -1),
                 "stream": lambda k: redis.xrange(k)}.get(kind)
        parts.append(f"{key!r} {kind} {await value(key) if value else ''!r}")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def logged_stack(container, tmp_path_factory):
    log = tmp_path_factory.mktemp("api") / "api.log"
    stack = LiveStack({"FXP_LOG_LEVEL": "INFO", "FXP_PAYMENTS__PENDING_TIMEOUT_S": "1"}, api_log=log).start()
    yield stack
    stack.stop()


async def test_no_card_number_cvc_password_or_token_is_stored_or_logged(logged_stack, container, settings):
    created = await container.merchants.create("Secrets shop")
    merchant_key = {"Authorization": f"Bearer {created.api_key}"}
    merchant = type("M", (), {"headers": merchant_key})
    # (The webhook signing secret is not among them: HMAC signing needs it back, so it is stored.)
    secrets_seen: list[str] = [created.api_key]
    async with httpx.AsyncClient(base_url=logged_stack.api_url, timeout=30) as api:
        email = f"grace-{uuid.uuid4().hex[:8]}@example.com"
        registered = (await api.post("/auth/register", json={"merchant_id": str(created.merchant.id),
                                                             "email": email, "password": PASSWORDS[0]})).json()
        refreshed = (await api.post("/auth/refresh", json={"refresh_token": registered["refresh_token"]})).json()
        user = {"Authorization": f"Bearer {refreshed['access_token']}"}
        changed = (await api.post("/me/password", headers=user, json={"current_password": PASSWORDS[0],
                                                                      "new_password": PASSWORDS[1]})).json()
        user = {"Authorization": f"Bearer {changed['access_token']}"}
        secrets_seen += [t[k] for t in (registered, refreshed, changed) for k in ("refresh_token", "access_token")]

        saved = await api.post("/cards", headers=user, json=card(CUSTOMER_PAN, CVCS[0]))
        assert saved.status_code == 201, saved.text
        merchant_card = (await api.post("/cards", headers=merchant_key, json=card(MERCHANT_PAN, CVCS[2]))).json()
        paid = []
        for headers, method in (
            (user, {"type": "card_token", "token": saved.json()["token"]}),
            (merchant_key, {"type": "card", "number": RAW_PAN, "exp_month": 11, "exp_year": 2034, "cvc": CVCS[1]}),
            (merchant_key, {"type": "card_token", "token": merchant_card["token"]}),
        ):
            order = (await api.post("/orders", headers=headers, json=ORDER)).json()
            response = await api.post("/payments", headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                                      json={"order_id": order["id"], "payment_method": method})
            assert response.status_code == 202, response.text
            paid.append(order["id"])
        for order_id in paid:
            assert (await wait_for_order(api, merchant, order_id))["status"] == "PAYMENT_DONE"
        await api.post("/auth/logout", json={"refresh_token": changed["refresh_token"]})

    dump = subprocess.run([pg_dump_binary(), "--no-owner", settings.database.url], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    assert "saved_cards" in dump and saved.json()["token"] in dump  # the dump holds this test's rows
    async with container.engine.transaction() as transaction:
        outbox = await transaction.connection.fetch("SELECT * FROM outbox")
        deliveries = await transaction.connection.fetch("SELECT * FROM webhook_deliveries")
    places = {"pg_dump": dump, "redis": await redis_contents(container.redis),
              "outbox": repr([dict(row) for row in outbox]), "webhook log": repr([dict(row) for row in deliveries]),
              "api log": logged_stack.api_log.read_text()}
    assert len(places["api log"].splitlines()) > 10  # the request log was captured
    identifiers = [str(created.merchant.id), registered["user"]["id"], saved.json()["token"], merchant_card["token"],
                   *paid]
    for where, text in places.items():
        for secret in (CUSTOMER_PAN, RAW_PAN, MERCHANT_PAN, *PASSWORDS, *secrets_seen):
            assert secret not in text, f"a secret ({secret[:6]}…) is in the {where}"
        assert '"cvc"' not in text and "'cvc'" not in text, f"a cvc field in the {where}"
        # A CVC is short: look for it as a whole value, in what belongs to this test (its
        # merchant's and user's rows and keys; all of the log), so other numbers (sequence
        # values, timestamps) of the shared test database cannot pass for one.
        mine = "\n".join(line for line in text.splitlines()
                         if where == "api log" or any(ident in line for ident in identifiers))
        for cvc in CVCS:
            assert not re.search(rf"(?<![\w.+/=:-]){cvc}(?![\w.+/=-])", mine), f"a CVC in the {where}"

"""Operators' actions and reads in the audit trail, on real PostgreSQL: merchant management
(admin API and CLI), webhook resends, dead-letter replays, review decisions, refund
retries and user creation are `admin_action` records with the operator, the request id,
the entities and the outcome (refusals recorded as failed); concurrent duplicates leave
one change and one success; admin searches, timelines and exports are `data_lookup`
records with the filters' names but never their values."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from app.adapters.queue.dead_letters import DeadLetter, DeadLetterQueue
from app.entrypoints import cli
from app.entrypoints.http.app import create_app
from tests.integration.admin_world import ADMIN_KEY, World, build_world


@pytest.fixture
async def world(container) -> World:
    return await build_world(container)


def client_of(world: World) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(world.container)),
                             base_url="http://admin.test", headers={"Authorization": f"Bearer {ADMIN_KEY}"})


@pytest.fixture
async def admin(world):
    async with client_of(world) as client:
        yield client


async def records(world: World, entity: str, entity_id: object, type_: str = "admin_action") -> list[dict]:
    await world.container.audit.flush()
    async with world.container.engine.transaction() as tx:
        found = await tx.connection.fetch(
            "SELECT * FROM audit_log WHERE event_type = $3 AND entities @> jsonb_build_object($1::text, $2::text)"
            " ORDER BY occurred_at, id", entity, str(entity_id), type_)
    return [{**dict(row), "entities": json.loads(row["entities"])} for row in found]


def summary(rows: list[dict]) -> list[tuple]:
    return [(r["action"], r["status"], r["error_code"]) for r in rows]


async def test_merchant_management_over_the_admin_api_is_recorded(admin, world):
    created = await admin.post("/admin/merchants", json={"name": "Audited shop", "webhook_url": "https://a.example/h"},
                               headers={"X-Request-ID": "req-merchant-create"})
    assert created.status_code == 201, created.text
    body = created.json()
    merchant_id = body["merchant"]["id"]
    calls = [
        ("patch", "", {"name": "Renamed shop"}, 200),
        ("patch", "", {"name": " "}, 422),  # refused input: a failed attempt
        ("post", "/api-key/rotate", {"grace_period_s": 0}, 200),
        ("post", "/webhook-secret/rotate", None, 200),
        ("post", "/webhooks/enable", None, 200),  # enabled already: nothing changed
        ("post", "/deactivate", None, 200),
        ("post", "/api-key/rotate", None, 409),  # deactivated
    ]
    for method, path, payload, status in calls:
        response = await getattr(admin, method)(f"/admin/merchants/{merchant_id}{path}",
                                                **({"json": payload} if payload is not None else {}))
        assert response.status_code == status, response.text
    rows = await records(world, "merchant", merchant_id)
    assert summary(rows) == [
        ("merchant_create", "success", None),
        ("merchant_update", "success", None),
        ("merchant_update", "failed", "business_rule_violated"),
        ("merchant_rotate_api_key", "success", None),
        ("merchant_rotate_webhook_secret", "success", None),
        ("merchant_enable_webhooks_unchanged", "success", None),
        ("merchant_deactivate", "success", None),
        ("merchant_rotate_api_key", "failed", "merchant_deactivated"),
    ]
    assert {(r["actor_kind"], r["actor_id"]) for r in rows} == {("admin", "admin_key")}
    assert rows[0]["correlation_id"] == "req-merchant-create" and all(r["duration_ms"] >= 0 for r in rows)
    everything = json.dumps([{k: str(v) for k, v in r.items()} for r in rows])
    assert body["api_key"] not in everything and body["webhook_secret"] not in everything  # never a secret


async def test_a_rotation_sent_twice_at_once_is_one_change_and_one_success(admin, world):
    merchant_id = (await admin.post("/admin/merchants", json={"name": "Twice"})).json()["merchant"]["id"]
    key = {"Idempotency-Key": f"rot-{uuid.uuid4().hex}"}
    answers = await asyncio.gather(*[admin.post(f"/admin/merchants/{merchant_id}/api-key/rotate", headers=key)
                                     for _ in range(2)])
    assert sorted(a.json()["replayed"] for a in answers) == [False, True]
    rotations = [r for r in await records(world, "merchant", merchant_id) if "rotate" in r["action"]]
    assert sorted(summary(rotations)) == [("merchant_rotate_api_key", "success", None),
                                          ("merchant_rotate_api_key_replayed", "success", None)]


async def test_merchant_management_from_the_cli_is_recorded_as_the_shell_user(world):
    merchant_id = (await world.container.merchants.create("CLI shop")).merchant.id
    args = argparse.Namespace(merchant_id=merchant_id, name="CLI renamed", webhook_url=None)

    async def run() -> None:  # its own task: the operator it binds stays there
        cli._bind_operator()  # what every command does before its handler (_with_container)
        await cli._update_merchant(world.container, args)

    await asyncio.create_task(run())
    [update] = [r for r in await records(world, "merchant", merchant_id) if r["action"] == "merchant_update"]
    assert update["status"] == "success" and update["actor_kind"] == "admin"
    assert update["actor_id"].startswith("cli:") and update["correlation_id"].startswith("cli-")


async def test_webhook_resend_is_recorded_and_a_refused_one_as_failed(admin, world):
    async with world.container.engine.transaction() as tx:
        event_id = await tx.connection.fetchval(
            "SELECT id FROM outbox WHERE merchant_id = $1 AND event_type = 'order.status_changed' LIMIT 1",
            world.merchant_id)
    receiver = world.container.notifications._sender
    before = receiver.sent.count(str(event_id))
    assert (await admin.post(f"/admin/webhooks/{event_id}/resend")).status_code == 202
    await world.container.bus.drain()  # without workers the resend runs in this process, after the commit
    assert receiver.sent.count(str(event_id)) == before + 1
    async with world.container.engine.transaction() as tx:
        await tx.connection.execute("UPDATE merchants SET webhook_enabled = false WHERE id = $1", world.merchant_id)
    refused = await admin.post(f"/admin/webhooks/{event_id}/resend")
    assert refused.status_code == 409 and refused.json()["code"] == "webhook_endpoint_disabled"
    rows = await records(world, "event", event_id)
    assert summary(rows) == [("webhook_resend", "success", None),
                             ("webhook_resend", "failed", "webhook_endpoint_disabled")]
    assert rows[0]["entities"]["merchant"] == str(world.merchant_id)


class KeptDeadLetters:
    """A broker's dead letters, kept in memory (the backend DeadLetterQueue drives)."""

    def __init__(self, letters: list[DeadLetter]) -> None:
        self.letters = letters

    def list(self) -> list[DeadLetter]:
        return list(self.letters)

    def replay(self, message_id: str | None) -> int:
        chosen = [letter for letter in self.letters if message_id in (None, letter.message_id)]
        for letter in chosen:
            self.letters.remove(letter)
        return len(chosen)


def letter(message_id: str, event_id: str) -> DeadLetter:
    return DeadLetter(message_id, "default", "notify_merchant", [], {"event_id": event_id}, 20, "TimeoutError",
                      datetime.now(UTC))


async def test_dead_letter_replays_are_recorded_with_their_message_and_entity(world):
    events = [str(uuid.uuid4()) for _ in range(3)]
    tag = uuid.uuid4().hex[:8]
    kept = KeptDeadLetters([letter(f"m1-{tag}", events[0]), letter(f"m2-{tag}", events[1]),
                            letter(f"m3-{tag}", events[2])])
    world.container = dataclasses.replace(world.container, dead_letters=DeadLetterQueue(kept))
    async with client_of(world) as admin:
        assert (await admin.post(f"/admin/dead-letters/m1-{tag}/replay")).json() == {"replayed": 1}
        assert (await admin.post(f"/admin/dead-letters/m1-{tag}/replay")).status_code == 404
        assert (await admin.post("/admin/dead-letters/replay")).json() == {"replayed": 2}
    first = await records(world, "message", f"m1-{tag}")
    assert summary(first) == [("dead_letter_replay", "success", None), ("dead_letter_replay", "failed", "not_found")]
    assert first[0]["entities"] == {"message": f"m1-{tag}", "queue": "default", "task": "notify_merchant",
                                    "event": events[0]}
    assert summary(await records(world, "event", events[2])) == [("dead_letter_replay", "success", None)]


async def test_review_decisions_racing_are_one_success_and_one_failure(admin, world):
    held = world.payments["held"]
    approve, reject = await asyncio.gather(admin.post(f"/admin/reviews/{held}/approve"),
                                           admin.post(f"/admin/reviews/{held}/reject"))
    assert sorted([approve.status_code, reject.status_code]) == [200, 409]
    await world.container.bus.drain()
    rows = await records(world, "payment", held)
    assert sorted(r["status"] for r in rows) == ["failed", "success"]
    assert {r["action"] for r in rows} == {"review_approve", "review_reject"}
    assert all(r["entities"]["order"] == str(world.orders["held"]) for r in rows)


async def test_refund_retry_of_a_refund_that_did_not_fail_is_recorded_as_failed(admin, world):
    async with world.container.engine.transaction() as tx:
        refund_id = await tx.connection.fetchval("SELECT id FROM refunds WHERE order_id = $1",
                                                 world.orders["refunded"])
    assert (await admin.post(f"/admin/refunds/{refund_id}/retry")).status_code == 409
    [row] = await records(world, "refund", refund_id)
    assert (row["action"], row["status"], row["entities"]["order"]) == (
        "refund_reopen", "failed", str(world.orders["refunded"]))


async def test_admin_users_created_are_recorded(admin, world):
    email = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    created = await admin.post("/admin/users", json={"email": email, "password": "Correct-Horse-Battery-42",
                                                     "role": "admin"})
    assert created.status_code == 201, created.text
    [row] = await records(world, "user", created.json()["id"])
    assert (row["action"], row["status"], row["entities"]["role"]) == ("user_create", "success", "admin")


async def test_admin_reads_are_data_lookups_with_filter_names_not_values(admin, world):
    email = f"paid-{world.tag}@example.com"
    search = await admin.get("/admin/orders", params={"merchant_id": str(world.merchant_id), "customer_email": email},
                             headers={"X-Request-ID": "req-lookup"})
    assert search.status_code == 200
    order_id = world.orders["paid"]
    assert (await admin.get(f"/admin/orders/{order_id}/timeline")).status_code == 200
    export = await admin.get("/admin/orders.csv", params={"merchant_id": str(world.merchant_id)})
    assert export.status_code == 200
    assert (await admin.get(f"/admin/orders/{uuid.uuid4()}/timeline")).status_code == 404
    lookups = await records(world, "merchant", world.merchant_id, "data_lookup")
    assert [(r["action"], r["entities"].get("filters")) for r in lookups] == [
        ("search_orders", "customer_email"), ("orders_csv", None)]
    assert lookups[0]["correlation_id"] == "req-lookup" and lookups[0]["actor_id"] == "admin_key"
    assert email not in json.dumps([r["entities"] for r in lookups])
    [timeline] = await records(world, "order", order_id, "data_lookup")
    assert (timeline["action"], timeline["status"]) == ("timeline", "success")


async def test_dashboard_key_logins_and_timeline_views_are_recorded_for_the_operator(world):
    from tests.integration.test_dashboard_http import CSRF, browser

    tag = uuid.uuid4().hex[:8]
    async with browser(world) as web:
        for n, key in enumerate(("not-the-key", ADMIN_KEY)):
            form = await web.get("/dashboard/login")
            await web.post("/dashboard/login", data={"_csrf": CSRF.search(form.text)[1], "admin_key": key},
                           headers={"X-Request-ID": f"req-dash-{tag}-{n}"})
        page = await web.get(f"/dashboard/orders/{world.orders['paid']}")
        assert page.status_code == 200
    await world.container.audit.flush()
    async with world.container.engine.transaction() as tx:
        logins = await tx.connection.fetch(
            "SELECT status, actor_kind, actor_id FROM audit_log WHERE event_type = 'user_login'"
            " AND correlation_id LIKE $1 ORDER BY correlation_id", f"req-dash-{tag}-%")
    assert [tuple(r) for r in logins] == [("failed", "admin", "admin_key"), ("success", "admin", "admin_key")]
    [view] = await records(world, "order", world.orders["paid"], "data_lookup")
    assert (view["action"], view["actor_id"]) == ("dashboard_timeline", "admin_key")

"""Admin endpoints for dead letters: authentication, list, replay one, replay all."""

from __future__ import annotations

import dataclasses
import uuid

import httpx
import msgspec
from litestar import Litestar

from app.entrypoints.http.controllers.admin import AdminController
from app.entrypoints.http.problems import EXCEPTION_HANDLERS, problem_details_plugin
from tests.workers.conftest import join
from tests.workers.test_actors import FakePayments, with_fake_payments


async def dead_letter_one(stub_broker, payments: FakePayments, correlation_id: str = "req-dl") -> str:
    message = stub_broker.get_actor("dispatch_payment").send_with_options(
        kwargs={"attempt_id": str(uuid.uuid4()), "event_id": str(uuid.uuid4())}, correlation_id=correlation_id)
    await join(stub_broker, "payments")
    return message.message_id


async def test_admin_requires_an_admin_credential(admin, services):
    assert (await admin.get("/admin/dead-letters")).status_code == 200
    missing = await admin.get("/admin/dead-letters", headers={"Authorization": ""})
    assert missing.status_code == 401 and missing.json()["code"] == "unauthenticated"
    wrong = await admin.get("/admin/dead-letters", headers={"Authorization": "Bearer not-the-key"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_token"  # neither the key nor a JWT
    merchant = await services.merchants.create("Not an admin")
    refused = await admin.get("/admin/dead-letters", headers={"Authorization": f"Bearer {merchant.api_key}"})
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")


async def test_list_and_replay_one_dead_letter(admin, services, stub_broker, worker):
    payments = FakePayments(failures=3)  # fails every try (1 + 2 retries), then would succeed
    with_fake_payments(services, payments)
    message_id = await dead_letter_one(stub_broker, payments)
    listed = (await admin.get("/admin/dead-letters")).json()
    assert listed["count"] == 1
    [letter] = listed["data"]
    assert letter["message_id"] == message_id and letter["actor"] == "dispatch_payment"
    assert letter["queue"] == "payments" and letter["retries"] == 3
    assert letter["failure"] == "RuntimeError: provider exploded" and letter["queued_at"]
    assert "attempt_id" in letter["kwargs"]

    replayed = await admin.post(f"/admin/dead-letters/{message_id}/replay")
    assert replayed.status_code == 202 and replayed.json() == {"replayed": 1}
    await join(stub_broker, "payments")
    assert len(payments.calls) == 4 and payments.calls[-1][1] == "req-dl"  # correlation id kept
    assert (await admin.get("/admin/dead-letters")).json()["count"] == 0
    again = await admin.post(f"/admin/dead-letters/{message_id}/replay")
    assert again.status_code == 404


async def test_replay_all_dead_letters(admin, services, stub_broker, worker):
    payments = FakePayments(failures=6)
    with_fake_payments(services, payments)
    for _ in range(2):
        await dead_letter_one(stub_broker, payments)
    assert (await admin.get("/admin/dead-letters")).json()["count"] == 2
    response = await admin.post("/admin/dead-letters/replay")
    assert response.status_code == 202 and response.json() == {"replayed": 2}
    await join(stub_broker, "payments")
    assert len(payments.calls) == 8 and not stub_broker.dead_letters

"""The audit trail on real PostgreSQL: records written with the change they record (and
never without it), reads and failures recorded off the request path, the table refusing
UPDATE, DELETE and TRUNCATE, and GET /admin/audit's filters, pages and bad filters."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from app.domain.model.audit import AuditType
from tests.integration.test_http_edge import admin_client, assert_problem
from tests.integration.test_orders_api import create_order
from tests.integration.test_unit_of_work import new_order

ADMIN_KEY = "audit-admin-key"
PASSWORD = "Correct-Horse-Battery-42"


@pytest.fixture
async def admin(container):
    async with admin_client(container, ADMIN_KEY) as client:
        yield client


async def rows(container, entity: str, entity_id: str) -> list[dict]:
    await container.audit.flush()
    async with container.engine.transaction() as tx:
        found = await tx.connection.fetch(
            "SELECT * FROM audit_log WHERE entities @> jsonb_build_object($1::text, $2::text) ORDER BY occurred_at",
            entity, entity_id)
    return [dict(row) for row in found]


async def test_order_creation_is_recorded_with_request_id_and_merchant(client, merchant, container):
    created = await create_order(client, merchant, **{"X-Request-ID": "req-audit-1"})
    fetched = await client.get(f"/orders/{created['id']}", headers=merchant.headers)
    assert fetched.status_code == 200
    creation, lookup = await rows(container, "order", created["id"])
    assert (creation["event_type"], creation["status"], creation["correlation_id"]) == (
        "order_creation", "success", "req-audit-1")
    assert (creation["actor_kind"], creation["actor_id"]) == ("merchant", merchant.id)
    assert creation["duration_ms"] >= 0 and creation["error_code"] is None
    assert (lookup["event_type"], lookup["action"], lookup["status"]) == ("data_lookup", "order", "success")


async def test_a_record_is_never_committed_without_its_change(container, merchant):
    """Recorded in a unit that wrote an order and then broke: the order is rolled back, and
    the record says the operation failed (written on its own), never that it succeeded."""
    order = new_order(merchant.id)
    with pytest.raises(RuntimeError):
        async with container.uow() as uow:
            uow.audit.record(AuditType.ORDER_CREATION, order=order.id)
            await uow.orders.add(order)
            raise RuntimeError("broke after writing")
    [record] = await rows(container, "order", str(order.id))
    assert (record["status"], record["error_code"], record["error_detail"]) == (
        "failed", "RuntimeError", "broke after writing")
    async with container.uow() as uow:
        assert await uow.orders.get(order.merchant_id, order.id) is None


async def test_a_failed_commit_records_a_failure_not_a_success(container, merchant):
    order = new_order(merchant.id)
    with pytest.raises(asyncpg.PostgresError):
        async with container.uow() as uow:
            uow.audit.record(AuditType.ORDER_CREATION, order=order.id)
            await uow.orders.add(order)
            # A deferred check that fails at COMMIT: the record went into the same transaction.
            await uow._transaction.connection.execute(
                "CREATE TEMP TABLE IF NOT EXISTS commit_breaker (x int REFERENCES merchants (id) "
                "DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP; INSERT INTO commit_breaker VALUES (0)")
            await uow.commit()
    [record] = await rows(container, "order", str(order.id))
    assert record["status"] == "failed"


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET status = 'success' WHERE id = $1",
    "DELETE FROM audit_log WHERE id = $1",
])
async def test_postgresql_refuses_to_change_or_delete_a_record(container, merchant, statement):
    order = new_order(merchant.id)
    async with container.uow() as uow:
        uow.audit.record(AuditType.ORDER_CREATION, order=order.id)
        await uow.orders.add(order)
        await uow.commit()
    [record] = await rows(container, "order", str(order.id))
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        async with container.engine.transaction() as tx:
            await tx.connection.execute(statement, record["id"])
    assert len(await rows(container, "order", str(order.id))) == 1


async def test_postgresql_refuses_to_truncate_the_trail(container):
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        async with container.engine.transaction() as tx:
            await tx.connection.execute("TRUNCATE audit_log")


async def test_failed_and_successful_logins_are_recorded(client, container, merchant):
    email = f"audit-{uuid.uuid4().hex[:8]}@example.com"
    registered = await client.post("/auth/register", json={"merchant_id": merchant.id, "email": email,
                                                           "password": PASSWORD})
    assert registered.status_code == 201, registered.text
    user_id = registered.json()["user"]["id"]
    wrong = await client.post("/auth/login", json={"email": email, "password": "not-the-password-1",
                                                   "merchant_id": merchant.id})
    assert wrong.status_code == 401
    ok = await client.post("/auth/login", json={"email": email, "password": PASSWORD, "merchant_id": merchant.id})
    assert ok.status_code == 200
    logins = [r for r in await rows(container, "user", user_id) if r["event_type"] == "user_login"]
    assert [(r["status"], r["error_code"]) for r in logins] == [("failed", "invalid_credentials"), ("success", None)]
    assert {(r["actor_kind"], r["actor_id"]) for r in logins} == {("user", user_id)}


async def test_admin_audit_filters_and_pages(client, admin, merchant, container):
    since = datetime.now(UTC) - timedelta(seconds=1)
    orders = [await create_order(client, merchant) for _ in range(3)]
    missing = uuid.uuid4()
    assert (await client.get(f"/orders/{missing}", headers=merchant.headers)).status_code == 404
    await container.audit.flush()
    base = {"actor": f"merchant:{merchant.id}", "since": since.isoformat()}

    created = (await admin.get("/admin/audit", params={**base, "type": "order_creation", "limit": 2})).json()
    assert [e["entities"]["order"] for e in created["data"]] == [orders[2]["id"], orders[1]["id"]]
    assert created["has_more"] is True
    rest = (await admin.get("/admin/audit", params={**base, "type": "order_creation", "limit": 2,
                                                    "cursor": created["next_cursor"]})).json()
    assert [e["entities"]["order"] for e in rest["data"]] == [orders[0]["id"]] and rest["next_cursor"] is None

    failed = (await admin.get("/admin/audit", params={**base, "status": "failed"})).json()["data"]
    assert [(e["type"], e["error_code"], e["entities"]["order"]) for e in failed] == [
        ("data_lookup", "not_found", str(missing))]
    one = (await admin.get("/admin/audit", params={"entity": f"order:{orders[1]['id']}"})).json()["data"]
    assert [e["type"] for e in one] == ["order_creation"] and one[0]["actor_kind"] == "merchant"
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (await admin.get("/admin/audit", params={**base, "until": since.isoformat()})).json()["data"] == []
    assert len((await admin.get("/admin/audit", params={**base, "until": future})).json()["data"]) == 4


@pytest.mark.parametrize(("params", "code"), [
    ({"type": "order_deletion"}, "invalid_filter"),
    ({"status": "maybe"}, "invalid_filter"),
    ({"actor": "robot:1"}, "invalid_filter"),
    ({"actor": "merchant:"}, "invalid_filter"),
    ({"entity": "order"}, "invalid_filter"),
    ({"entity": "or-der:1"}, "invalid_filter"),
    ({"since": "yesterday"}, None),
    ({"limit": "0"}, None),
])
async def test_admin_audit_bad_filters_are_400_problems(admin, params, code):
    assert_problem(await admin.get("/admin/audit", params=params), 400, code)


async def test_admin_audit_refuses_a_cursor_it_did_not_issue(admin):
    assert_problem(await admin.get("/admin/audit", params={"cursor": "not-a-cursor"}), 422, "invalid_cursor")


async def test_admin_audit_is_for_admins_only(client, merchant):
    assert (await client.get("/admin/audit", headers=merchant.headers)).status_code in (403, 404)


async def test_reads_do_not_wait_for_their_record(client, merchant, container):
    """A read's record is queued, not written on its request: it shows up after a flush."""
    created = await create_order(client, merchant)
    assert (await client.get(f"/orders/{created['id']}", headers=merchant.headers)).status_code == 200
    await asyncio.sleep(0.2)  # the background writer's batch delay is 50 ms
    async with container.engine.transaction() as tx:
        lookups = await tx.connection.fetchval(
            "SELECT count(*) FROM audit_log WHERE event_type = 'data_lookup' AND entities @> $1::jsonb",
            f'{{"order": "{created["id"]}"}}')
    assert lookups == 1

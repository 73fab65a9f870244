"""POST /orders claims its Idempotency-Key at commit: the claim with the stored response,
the order, its outbox row and its audit record are one statement with no transaction
around it (app/adapters/db/commit_writes.py). The semantics are test_idempotency.py's;
these tests hold what the single statement must add to them: one round trip, all or
nothing when the key or the merchant reference is taken, also under concurrency."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

import asyncpg
import pytest
from litestar.routes import HTTPRoute
from piccolo.engine.postgres import PostgresTransaction

from app.entrypoints.http.idempotency import CLAIM_AT_COMMIT

from tests.integration.test_orders_api import ORDER, create_order


@pytest.fixture
def statements(monkeypatch):
    """statements(): a context that lists the statements sent meanwhile from this context
    (the request's task inherits it) on the connections units of work take from the pool
    (asyncpg's query logger on each, removed before it goes back; asyncpg calls loggers
    in the querying task's context). The audit trail's writer, a task with a context of
    its own, is not the request's."""
    get_connection, aexit = PostgresTransaction.get_connection, PostgresTransaction.__aexit__
    recording_to: ContextVar[list[str] | None] = ContextVar("recording_to", default=None)

    def log(record) -> None:
        sent = recording_to.get()
        if sent is not None:
            sent.append(record.query)

    async def logged(transaction):
        connection = await get_connection(transaction)
        connection.add_query_logger(log)
        return connection

    async def unlogged(transaction, *exc_info):
        if transaction._parent is None:
            transaction.connection.remove_query_logger(log)
        return await aexit(transaction, *exc_info)

    monkeypatch.setattr(PostgresTransaction, "get_connection", logged)
    monkeypatch.setattr(PostgresTransaction, "__aexit__", unlogged)

    @asynccontextmanager
    async def recording() -> AsyncIterator[list[str]]:
        sent: list[str] = []
        token = recording_to.set(sent)
        try:
            yield sent
        finally:
            recording_to.reset(token)

    return recording


async def rows(container, sql: str, *args) -> list[asyncpg.Record]:
    async with container.engine.transaction() as tx:
        return await tx.connection.fetch(sql, *args)


async def written_for(container, merchant) -> dict[str, int]:
    """What the merchant has: orders, outbox rows, idempotency keys, order-creation audit records."""
    merchant_id = uuid.UUID(merchant.id)
    counts = await rows(container, """
        SELECT (SELECT count(*) FROM orders WHERE merchant_id = $1) AS orders,
               (SELECT count(*) FROM outbox WHERE merchant_id = $1) AS outbox,
               (SELECT count(*) FROM idempotency_keys WHERE merchant_id = $1) AS keys,
               (SELECT count(*) FROM audit_log WHERE event_type = 'order_creation' AND status = 'success'
                  AND entities->>'merchant' = $1::text) AS audit""", merchant_id)
    return dict(counts[0])


def keyed(merchant, key: str) -> dict[str, str]:
    return {**merchant.headers, "Idempotency-Key": key}


async def test_a_post_orders_is_one_statement_with_or_without_a_key(client, merchant, container, statements):
    await create_order(client, merchant)  # the API key is looked up once, then cached
    async with statements() as keyed_request:
        await create_order(client, merchant, **{"Idempotency-Key": "one-statement"})
    async with statements() as plain_request:
        await create_order(client, merchant)
    assert len(keyed_request) == 1, keyed_request
    assert keyed_request[0].startswith("WITH fxp_claim AS (INSERT INTO idempotency_keys")
    assert len(plain_request) == 1 and plain_request[0].startswith("WITH fxp_orders AS"), plain_request
    async with statements() as legacy_request:  # the alias, keyed
        legacy = await client.post("/order/create", json=ORDER, headers=keyed(merchant, "legacy"))
    assert legacy.status_code == 201 and len(legacy_request) == 1, legacy_request
    assert await written_for(container, merchant) == {"orders": 4, "outbox": 4, "keys": 2, "audit": 4}


async def test_a_catalog_order_reads_the_catalog_then_writes_in_one_statement(client, merchant, container,
                                                                             statements):
    product = await client.post("/products", headers=merchant.headers, json={
        "sku": "CUP", "name": "Cup", "unit_amount": 700, "currency": "USD", "stock": 5})
    assert product.status_code == 201, product.text
    body = {"currency": "USD", "items": [{"sku": "CUP", "quantity": 3}], "customer": ORDER["customer"]}
    async with statements() as sent:
        created = await create_order(client, merchant, body, **{"Idempotency-Key": "catalog"})
    assert created["amount"] == 2100 and created["items"][0]["unit_amount"] == 700
    assert len(sent) == 2 and "FROM products" in sent[0] and sent[1].startswith("WITH fxp_claim"), sent


async def test_twenty_concurrent_requests_same_key_make_one_order_and_identical_answers(client, merchant, container):
    headers = keyed(merchant, "burst-20")
    answers = await asyncio.gather(*(client.post("/orders", json=ORDER, headers=headers) for _ in range(20)))
    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.content for answer in answers}) == 1
    assert sum(answer.headers.get("idempotent-replayed") == "true" for answer in answers) == 19
    assert await written_for(container, merchant) == {"orders": 1, "outbox": 1, "keys": 1, "audit": 1}
    stored = await rows(container, "SELECT status_code, response_body FROM idempotency_keys WHERE key = 'burst-20'")
    assert (stored[0]["status_code"], bytes(stored[0]["response_body"])) == (201, answers[0].content)


async def test_a_reused_key_is_422_even_when_the_new_body_is_invalid(client, merchant, container):
    headers = keyed(merchant, "reused")
    await create_order(client, merchant, **{"Idempotency-Key": "reused"})
    invalid = await client.post("/orders", json={**ORDER, "amount": 1}, headers=headers)  # items disagree
    assert invalid.status_code == 422 and invalid.json()["code"] == "idempotency_key_reused"
    other = await client.post("/orders", json={**ORDER, "description": "other"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert await written_for(container, merchant) == {"orders": 1, "outbox": 1, "keys": 1, "audit": 1}


async def test_a_taken_merchant_reference_writes_nothing_for_the_new_key(client, merchant, container):
    body = {**ORDER, "merchant_reference": "cart-7"}
    first = await create_order(client, merchant, body, **{"Idempotency-Key": "first"})
    duplicate = await client.post("/orders", json=body, headers=keyed(merchant, "second"))
    assert duplicate.status_code == 409, duplicate.text
    assert duplicate.headers["content-type"].startswith("application/problem+json")
    assert duplicate.json()["code"] == "duplicate_order" and duplicate.json()["existing_order_id"] == first["id"]
    assert await written_for(container, merchant) == {"orders": 1, "outbox": 1, "keys": 1, "audit": 1}
    await container.audit.flush()  # failures go through the trail's queue
    failed = await rows(container, "SELECT error_code FROM audit_log WHERE event_type = 'order_creation' "
                                   "AND status <> 'success' AND entities->>'merchant' = $1", merchant.id)
    assert [row["error_code"] for row in failed] == ["duplicate_order"]
    # Nothing was stored under the key: it is free for another request.
    reused = await client.post("/orders", json={**body, "merchant_reference": "cart-8"},
                               headers=keyed(merchant, "second"))
    assert reused.status_code == 201 and reused.headers.get("idempotent-replayed") is None


async def test_concurrent_new_keys_for_one_merchant_reference_make_one_order(client, merchant, container):
    body = {**ORDER, "merchant_reference": "cart-race"}
    answers = await asyncio.gather(*(client.post("/orders", json=body, headers=keyed(merchant, f"race-{n}"))
                                     for n in range(12)))
    created = [answer for answer in answers if answer.status_code == 201]
    refused = [answer for answer in answers if answer.status_code != 201]
    assert len(created) == 1 and len(refused) == 11
    assert {(a.status_code, a.json()["code"], a.json()["existing_order_id"]) for a in refused} == {
        (409, "duplicate_order", created[0].json()["id"])}
    assert await written_for(container, merchant) == {"orders": 1, "outbox": 1, "keys": 1, "audit": 1}


async def test_an_expired_key_is_claimed_again_with_the_new_answer(client, merchant, container):
    first = await create_order(client, merchant, **{"Idempotency-Key": "expiring"})
    await rows(container, "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' "
                          "WHERE key = 'expiring' RETURNING key")
    changed = {**ORDER, "description": "a new request under the old key"}
    second = await client.post("/orders", json=changed, headers=keyed(merchant, "expiring"))
    assert second.status_code == 201 and second.json()["id"] != first["id"]
    replay = await client.post("/orders", json=changed, headers=keyed(merchant, "expiring"))
    assert replay.content == second.content and replay.headers["idempotent-replayed"] == "true"
    assert await written_for(container, merchant) == {"orders": 2, "outbox": 2, "keys": 1, "audit": 2}


def test_only_routes_whose_effects_are_one_statement_claim_at_commit(app):
    """Each of these runs OrderService.create alone. A route that calls a provider, or
    whose use case writes in a transaction, must claim first (the default)."""
    marked = {(method, route.path) for route in app.routes if isinstance(route, HTTPRoute)
              for method, (handler, _) in route.route_handler_map.items()
              if handler.opt.get("idempotency") == CLAIM_AT_COMMIT["idempotency"]}
    assert marked == {("POST", "/orders"), ("POST", "/order/create")}


async def test_a_claim_first_route_still_claims_in_a_transaction(client, merchant, container, statements):
    order = await create_order(client, merchant)
    async with statements() as sent:
        cancelled = await client.post(f"/orders/{order['id']}/cancel", headers=keyed(merchant, "cancel"))
    assert cancelled.status_code == 200, cancelled.text
    assert sent[0] == "BEGIN;" and "INSERT INTO idempotency_keys" in sent[1] and sent[-1] == "COMMIT;", sent
    again = await client.post(f"/orders/{order['id']}/cancel", headers=keyed(merchant, "cancel"))
    assert again.content == cancelled.content and again.headers["idempotent-replayed"] == "true"

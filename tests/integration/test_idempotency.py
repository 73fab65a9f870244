"""Idempotency-Key semantics on real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from tests.integration.test_orders_api import ORDER


async def order_count(container, merchant_id: str) -> int:
    async with container.engine.transaction() as tx:
        return await tx.connection.fetchval("SELECT count(*) FROM orders WHERE merchant_id = $1",
                                            uuid.UUID(merchant_id))


async def test_same_key_same_body_replays_byte_for_byte(client, merchant, container):
    headers = {**merchant.headers, "Idempotency-Key": "order-1"}
    first = await client.post("/orders", json=ORDER, headers=headers)
    second = await client.post("/orders", json=ORDER, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert second.headers["idempotent-replayed"] == "true"
    assert await order_count(container, merchant.id) == 1


async def test_same_key_other_body_is_422(client, merchant, container):
    headers = {**merchant.headers, "Idempotency-Key": "order-2"}
    assert (await client.post("/orders", json=ORDER, headers=headers)).status_code == 201
    other = await client.post("/orders", json={**ORDER, "description": "changed"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert await order_count(container, merchant.id) == 1


async def test_keys_are_scoped_per_merchant(client, merchant, other_merchant):
    first = await client.post("/orders", json=ORDER, headers={**merchant.headers, "Idempotency-Key": "k"})
    second = await client.post("/orders", json=ORDER, headers={**other_merchant.headers, "Idempotency-Key": "k"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


async def test_fifty_concurrent_requests_same_key_make_one_order(client, merchant, container):
    headers = {**merchant.headers, "Idempotency-Key": "burst"}
    responses = await asyncio.gather(*(client.post("/orders", json=ORDER, headers=headers) for _ in range(50)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert await order_count(container, merchant.id) == 1


async def test_key_held_by_a_running_request_is_409(client, merchant, settings):
    # Another transaction holds the claim (as a first request still running would).
    connection = await asyncpg.connect(settings.database.url)
    try:
        transaction = connection.transaction()
        await transaction.start()
        await connection.execute(
            "INSERT INTO idempotency_keys (merchant_id, key, fingerprint) VALUES ($1, 'busy', 'x')",
            uuid.UUID(merchant.id))
        response = await client.post("/orders", json=ORDER, headers={**merchant.headers, "Idempotency-Key": "busy"})
        assert response.status_code == 409
        assert response.json()["code"] == "idempotency_key_in_use"
        await transaction.rollback()
    finally:
        await connection.close()
    after = await client.post("/orders", json=ORDER, headers={**merchant.headers, "Idempotency-Key": "busy"})
    assert after.status_code == 201


async def test_failed_request_stores_nothing_and_may_be_retried(client, merchant, container):
    headers = {**merchant.headers, "Idempotency-Key": "fails-first"}
    bad = await client.post("/orders", json={**ORDER, "amount": 1}, headers=headers)  # items disagree
    assert bad.status_code == 422
    async with container.engine.transaction() as tx:
        stored = await tx.connection.fetchval(
            "SELECT count(*) FROM idempotency_keys WHERE merchant_id = $1 AND key = 'fails-first'",
            uuid.UUID(merchant.id))
    assert stored == 0
    assert (await client.post("/orders", json={**ORDER, "amount": 1}, headers=headers)).status_code == 422


async def test_expired_keys_are_taken_over_and_purged(client, merchant, container):
    headers = {**merchant.headers, "Idempotency-Key": "old"}
    first = await client.post("/orders", json=ORDER, headers=headers)
    async with container.engine.transaction() as tx:
        await tx.connection.execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'")
    second = await client.post("/orders", json=ORDER, headers=headers)
    assert second.status_code == 201 and second.json()["id"] != first.json()["id"]
    async with container.engine.transaction() as tx:
        await tx.connection.execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'")
    assert await container.idempotency.purge_expired() >= 1
    async with container.engine.transaction() as tx:
        assert await tx.connection.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'old'") == 0


async def test_invalid_key_is_400_class_problem(client, merchant):
    response = await client.post("/orders", json=ORDER, headers={**merchant.headers, "Idempotency-Key": "x" * 300})
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")

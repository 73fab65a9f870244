"""Group commit of POST /orders (app/adapters/db/group_commit.py) against real PostgreSQL:
orders committing at the same time share one statement, and each request's outcome is
still its own — its key's claim, its merchant reference, its answer — exactly as if it had
been alone. Every test fires concurrent requests and counts what was written."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
from piccolo.engine.postgres import PostgresTransaction

from tests.integration.test_idempotency_at_commit import keyed, rows, statements, written_for  # noqa: F401
from tests.integration.test_orders_api import ORDER, create_order

BATCH_PREFIX = "WITH fxp_keys AS ("


async def test_concurrent_orders_share_statements_and_each_is_written_once(client, merchant, container, statements,
                                                                           monkeypatch):
    await create_order(client, merchant)  # the API key is looked up once, then cached
    taken = 0
    get_connection = PostgresTransaction.get_connection

    async def counted(transaction):
        nonlocal taken
        # single-statement units' connections only: the session's other work (event
        # handlers, readers) takes its own meanwhile
        taken += getattr(transaction, "_connect_on_use", False)
        return await get_connection(transaction)

    monkeypatch.setattr(PostgresTransaction, "get_connection", counted)
    async with statements() as sent:
        answers = await asyncio.gather(*(
            client.post("/orders", json={**ORDER, "merchant_reference": f"shared-{n}"},
                        headers=keyed(merchant, f"shared-{n}") if n % 3 else merchant.headers)
            for n in range(30)))
    assert [answer.status_code for answer in answers] == [201] * 30
    assert len({answer.json()["id"] for answer in answers}) == 30
    batches = [sql for sql in sent if sql.startswith(BATCH_PREFIX)]
    assert batches and len(sent) < 30, sent  # fewer statements than orders
    # A connection only for each unit that sent a statement of its own (a batch's leader);
    # asyncpg's type introspection on a new connection is not ours.
    assert taken == len([sql for sql in sent if sql.startswith("WITH fxp_")]), [sql[:60] for sql in sent]
    assert await written_for(container, merchant) == {"orders": 31, "outbox": 31, "keys": 20, "audit": 31}
    # Each answer is its own order's, and each key stored its own request's answer.
    for n, answer in enumerate(answers):
        assert answer.json()["merchant_reference"] == f"shared-{n}"
        if n % 3:
            stored = await rows(container, "SELECT response_body FROM idempotency_keys WHERE merchant_id = $1 "
                                           "AND key = $2", uuid.UUID(merchant.id), f"shared-{n}")
            assert bytes(stored[0]["response_body"]) == answer.content


async def test_a_replayed_key_in_a_batch_leaves_its_neighbours_written(client, merchant, container):
    first = await create_order(client, merchant, **{"Idempotency-Key": "replayed"})
    answers = await asyncio.gather(*(
        client.post("/orders", json=ORDER, headers=keyed(merchant, "replayed" if n % 2 else f"fresh-{n}"))
        for n in range(16)))
    assert [answer.status_code for answer in answers] == [201] * 16
    replays = [answer for n, answer in enumerate(answers) if n % 2]
    assert {answer.json()["id"] for answer in replays} == {first["id"]}
    assert all(answer.headers["idempotent-replayed"] == "true" for answer in replays)
    fresh = [answer for n, answer in enumerate(answers) if not n % 2]
    assert len({answer.json()["id"] for answer in fresh}) == 8 and first["id"] not in {
        answer.json()["id"] for answer in fresh}
    assert await written_for(container, merchant) == {"orders": 9, "outbox": 9, "keys": 9, "audit": 9}


async def test_one_key_sent_many_times_at_once_among_others_makes_one_order(client, merchant, container):
    answers = await asyncio.gather(*(
        client.post("/orders", json=ORDER, headers=keyed(merchant, "burst" if n % 4 == 0 else f"other-{n}"))
        for n in range(24)))
    assert [answer.status_code for answer in answers] == [201] * 24
    burst = [answer for n, answer in enumerate(answers) if n % 4 == 0]
    assert len({answer.content for answer in burst}) == 1  # one order, the same answer to each
    assert sum(answer.headers.get("idempotent-replayed") == "true" for answer in burst) == len(burst) - 1
    assert await written_for(container, merchant) == {"orders": 19, "outbox": 19, "keys": 19, "audit": 19}


async def test_a_taken_merchant_reference_in_a_batch_refuses_only_its_own_request(client, merchant, container):
    """The shared statement is refused as a whole (nothing of it written); each request's
    own statement then runs: one order per reference, the others 409 with nothing written."""
    answers = await asyncio.gather(*(
        client.post("/orders", json={**ORDER, "merchant_reference": "cart-1" if n % 2 else f"cart-{n + 100}"},
                    headers=keyed(merchant, f"ref-{n}"))
        for n in range(20)))
    created = [answer for answer in answers if answer.status_code == 201]
    refused = [answer for answer in answers if answer.status_code != 201]
    assert len(created) == 11 and len(refused) == 9
    winner = next(answer.json()["id"] for answer in created if answer.json()["merchant_reference"] == "cart-1")
    assert {(a.status_code, a.json()["code"], a.json()["existing_order_id"]) for a in refused} == {
        (409, "duplicate_order", winner)}
    assert await written_for(container, merchant) == {"orders": 11, "outbox": 11, "keys": 11, "audit": 11}
    # A refused request's key holds nothing: it is free for another try.
    loser = next(n for n, answer in enumerate(answers) if answer.status_code == 409)
    again = await client.post("/orders", json={**ORDER, "merchant_reference": "cart-2"},
                              headers=keyed(merchant, f"ref-{loser}"))
    assert again.status_code == 201 and again.headers.get("idempotent-replayed") is None


async def test_merchants_share_a_batch_and_see_only_their_own_orders(client, merchant, other_merchant, container):
    answers = await asyncio.gather(*(
        client.post("/orders", json=ORDER, headers=keyed(owner, "same-key"))
        for owner in [merchant, other_merchant] * 6))
    assert [answer.status_code for answer in answers] == [201] * 12
    mine = {answer.json()["id"] for answer in answers[::2]}
    theirs = {answer.json()["id"] for answer in answers[1::2]}
    assert len(mine) == 1 and len(theirs) == 1 and mine != theirs  # one order per merchant's key
    for owner, order_id in ((merchant, mine.pop()), (other_merchant, theirs.pop())):
        seen = await client.get(f"/orders/{order_id}", headers=owner.headers)
        assert seen.status_code == 200
        assert await written_for(container, owner) == {"orders": 1, "outbox": 1, "keys": 1, "audit": 1}


async def _held_elsewhere(settings, sql: str, *args) -> asyncpg.Connection:
    """A connection of another process's, in a transaction holding `sql`'s row uncommitted."""
    connection = await asyncpg.connect(settings.database.url)
    await connection.execute("BEGIN")
    await connection.execute(sql, *args)
    return connection


async def test_a_lock_held_elsewhere_delays_only_its_own_request(client, merchant, container, settings):
    """A key and a merchant reference another transaction holds uncommitted: their requests
    wait for it, as alone; the others in their batches are written without waiting."""
    await create_order(client, merchant)
    holder = await _held_elsewhere(
        settings, "INSERT INTO idempotency_keys (merchant_id, key, fingerprint, created_at) "
                  "VALUES ($1, 'held-key', 'x', now())", uuid.UUID(merchant.id))
    await holder.execute(
        "INSERT INTO orders (id, merchant_id, merchant_reference, status, amount_minor, currency, items, customer, "
        "attempt_count, created_at, updated_at) VALUES ($1, $2, 'held-ref', 'CREATED', 100, 'USD', '[]', '{}', 0, "
        "now(), now())", uuid.uuid4(), uuid.UUID(merchant.id))
    try:
        held = [asyncio.ensure_future(client.post("/orders", json=ORDER, headers=keyed(merchant, "held-key"))),
                asyncio.ensure_future(client.post("/orders", json={**ORDER, "merchant_reference": "held-ref"},
                                                  headers=merchant.headers))]
        started = time.monotonic()
        others = await asyncio.gather(*(
            client.post("/orders", json=ORDER, headers=keyed(merchant, f"free-{n}") if n % 2 else merchant.headers)
            for n in range(16)))
        waited = time.monotonic() - started
        assert [answer.status_code for answer in others] == [201] * 16
        assert waited < 1.0, waited  # far less than the held rows' lock timeout (1.5 s in the tests)
        assert not any(request.done() for request in held), [r.result().text for r in held if r.done()]
    finally:
        await holder.execute("ROLLBACK")
        await holder.close()
    assert [(await request).status_code for request in held] == [201, 201]  # then go through
    assert await written_for(container, merchant) == {"orders": 19, "outbox": 19, "keys": 9, "audit": 19}

"""Orders, their outbox events and audit records get time-ordered ids (app/domain/ids.py):
in PostgreSQL, the order of the ids is the order in which they were made, so each primary
key grows at its right edge. Real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

from tests.integration.test_orders_api import create_order


async def test_ids_sort_in_postgresql_as_the_records_were_made(client, container, merchant):
    made = []
    for _ in range(3):
        made.append(uuid.UUID((await create_order(client, merchant))["id"]))
        await asyncio.sleep(0.003)
    async with container.engine.transaction() as transaction:
        fetch = transaction.connection.fetch
        orders = [r["id"] for r in await fetch("SELECT id FROM orders WHERE id = ANY($1) ORDER BY id", made)]
        events = [r["aggregate_id"] for r in await fetch(
            "SELECT aggregate_id FROM outbox WHERE aggregate_id = ANY($1) AND event_type = 'order.created'"
            " ORDER BY id", made)]
        audited = [r["entities"] for r in await fetch(
            "SELECT entities ->> 'order' AS entities FROM audit_log WHERE event_type = 'order_creation'"
            " AND entities ->> 'order' = ANY($1::text[]) ORDER BY id", [str(m) for m in made])]
    assert orders == events == made
    assert audited == [str(m) for m in made]
    assert {m.version for m in made} == {7}

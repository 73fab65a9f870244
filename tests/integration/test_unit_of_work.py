"""The Piccolo unit of work and repositories on real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from datetime import UTC, datetime

from app.domain.model.money import Money
from app.domain.model.order import Customer, LineItem, Order, OrderStatus
from app.domain.ports import OrderQuery
from tests.integration.test_orders_api import create_order


def new_order(merchant_id: str, reference: str | None = None) -> Order:
    return Order.create(uuid.UUID(merchant_id), Money.of(300, "EUR"), [LineItem("Tea", 3, 100, "TEA")],
                        Customer(email="a@b.co"), datetime.now(UTC), reference)


async def test_uncommitted_unit_of_work_rolls_back(container, merchant):
    order = new_order(merchant.id)
    async with container.uow() as uow:
        assert await uow.orders.add(order)
    async with container.uow() as uow:
        assert await uow.orders.get(order.merchant_id, order.id) is None
        outbox = await uow._transaction.connection.fetchval(
            "SELECT count(*) FROM outbox WHERE aggregate_id = $1", order.id)
    assert outbox == 0


async def test_exception_inside_unit_of_work_rolls_back(container, merchant):
    order = new_order(merchant.id)
    try:
        async with container.uow() as uow:
            await uow.orders.add(order)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    async with container.uow() as uow:
        assert await uow.orders.get(order.merchant_id, order.id) is None


async def test_repository_round_trip_and_outbox(container, merchant):
    order = new_order(merchant.id, "ref-1")
    async with container.uow() as uow:
        await uow.orders.add(order)
        await uow.commit()
    async with container.uow() as uow:
        loaded = await uow.orders.get(order.merchant_id, order.id)
        by_reference = await uow.orders.get_by_reference(order.merchant_id, "ref-1")
        rows = await uow._transaction.connection.fetch(
            "SELECT event_type FROM outbox WHERE aggregate_id = $1", order.id)
    assert loaded.items == order.items and loaded.amount == order.amount and loaded.customer == order.customer
    assert by_reference.id == order.id
    assert [r["event_type"] for r in rows] == ["order.created"]
    async with container.uow() as uow:
        assert not await uow.orders.add(new_order(merchant.id, "ref-1"))  # reference taken: no insert
    async with container.uow() as uow:
        page = await uow.orders.list(OrderQuery(order.merchant_id, status=OrderStatus.CREATED))
    assert [o.id for o in page] == [order.id]


async def test_nested_unit_of_work_that_wrote_without_commit_dooms_the_outer_one(container, merchant):
    from app.domain.ports import RollbackOnly

    outer_order, inner_order = new_order(merchant.id), new_order(merchant.id)
    with pytest.raises(RollbackOnly):
        async with container.uow() as outer:
            await outer.orders.add(outer_order)
            async with container.uow() as inner:
                await inner.orders.add(inner_order)  # not committed: the whole transaction goes
            await outer.commit()
    async with container.uow() as uow:
        assert await uow.orders.get(outer_order.merchant_id, outer_order.id) is None
        assert await uow.orders.get(inner_order.merchant_id, inner_order.id) is None


async def test_nested_read_only_unit_of_work_and_committed_one_join_the_outer(container, merchant):
    outer_order, inner_order = new_order(merchant.id), new_order(merchant.id)
    async with container.uow() as outer:
        await outer.orders.add(outer_order)
        async with container.uow() as reader:
            assert await reader.orders.get(outer_order.merchant_id, outer_order.id) is not None
        async with container.uow() as inner:
            await inner.orders.add(inner_order)
            await inner.commit()  # joins: lands when the outer one commits
        await outer.commit()
    async with container.uow() as uow:
        assert await uow.orders.get(outer_order.merchant_id, outer_order.id) is not None
        assert await uow.orders.get(inner_order.merchant_id, inner_order.id) is not None
        events = await uow._transaction.connection.fetchval(
            "SELECT count(*) FROM outbox WHERE aggregate_id = ANY($1::uuid[])", [outer_order.id, inner_order.id])
    assert events == 2


async def test_concurrent_cancel_and_modify_one_wins(client, merchant, container):
    for _ in range(5):
        order = await create_order(client, merchant)
        cancel, modify = await asyncio.gather(
            client.post(f"/orders/{order['id']}/cancel", headers=merchant.headers),
            client.put(f"/orders/{order['id']}", headers=merchant.headers, json={"amount": 999, "items": []}),
        )
        final = (await client.get(f"/orders/{order['id']}", headers=merchant.headers)).json()
        assert cancel.status_code == 200
        assert final["status"] == "ORDER_CANCELLED"
        if modify.status_code == 200:  # modify took the row lock first, then cancel ran on the new amount
            assert final["amount"] == 999
        else:
            assert modify.status_code == 409 and modify.json()["current_state"] == "ORDER_CANCELLED"
            assert final["amount"] == 2500

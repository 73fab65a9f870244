"""What every unit of work does, as test cases run against both the in-memory fake
(tests/unit/test_unit_of_work_contract.py) and the Piccolo one on PostgreSQL
(tests/integration/test_unit_of_work_contract.py), so the fake cannot drift from the real
thing. A subclass provides three fixtures: `units` (a UnitOfWorkFactory publishing to
`bus`), `bus` (an InMemoryEventBus) and `merchant_id` (a merchant that exists)."""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from datetime import UTC, datetime

import pytest

from app.domain.errors import DuplicateOrder
from app.domain.model.money import Money
from app.domain.model.order import Customer, LineItem, Order
from app.domain.ports import RollbackOnly, UnitOfWorkFactory


def new_order(merchant_id: uuid.UUID, reference: str | None = None) -> Order:
    """An order that has recorded its order.created event."""
    return Order.create(merchant_id, Money.of(300, "EUR"), [LineItem("Tea", 3, 100, "TEA")],
                        Customer(email="a@b.co"), datetime.now(UTC), reference)


async def stored(units: UnitOfWorkFactory, order: Order) -> bool:
    async with units() as unit:
        return await unit.orders.get(order.merchant_id, order.id) is not None


async def committed(units: UnitOfWorkFactory, order: Order) -> bool:
    """Whether another transaction sees the order: from a fresh context, where no unit of
    work is open (in ours, a new unit would join the open one)."""
    return await asyncio.create_task(stored(units, order), context=contextvars.Context())


class UnitOfWorkContract:
    async def test_a_unit_that_does_not_commit_rolls_back(self, units, bus, merchant_id):
        order = new_order(merchant_id)
        async with units() as unit:
            assert await unit.orders.add(order)
        assert not await stored(units, order) and bus.published == []

    async def test_an_exception_rolls_back(self, units, bus, merchant_id):
        order = new_order(merchant_id)
        with pytest.raises(RuntimeError):
            async with units() as unit:
                await unit.orders.add(order)
                await unit.commit()
                raise RuntimeError("after the commit the writes stay")
        assert await stored(units, order)
        other = new_order(merchant_id)
        with pytest.raises(RuntimeError):
            async with units() as unit:
                await unit.orders.add(other)
                raise RuntimeError("boom")
        assert not await stored(units, other)

    async def test_commit_keeps_the_writes_and_publishes_the_events_once_the_unit_ends(self, units, bus,
                                                                                         merchant_id):
        order = new_order(merchant_id)
        async with units() as unit:
            await unit.orders.add(order)
            await unit.commit()
            assert bus.published == []  # only once the transaction is over
        assert await stored(units, order)
        assert [(e.type, e.aggregate_id) for e in bus.published] == [("order.created", order.id)]

    async def test_a_nested_unit_joins_the_outer_transaction(self, units, bus, merchant_id):
        outer_order, inner_order = new_order(merchant_id), new_order(merchant_id)
        async with units() as outer:
            await outer.orders.add(outer_order)
            async with units() as inner:
                assert await inner.orders.get(merchant_id, outer_order.id) is not None  # sees the outer's write
                await inner.orders.add(inner_order)
                assert await outer.orders.get(merchant_id, inner_order.id) is not None  # no savepoint between
                await inner.commit()
            assert bus.published == [] and not await committed(units, inner_order)  # lands with the outer
            await outer.commit()
        assert await stored(units, outer_order) and await stored(units, inner_order)
        assert sorted(e.aggregate_id for e in bus.published) == sorted([outer_order.id, inner_order.id])

    async def test_a_nested_unit_that_wrote_without_committing_makes_the_outer_rollback_only(self, units, bus,
                                                                                              merchant_id):
        outer_order, inner_order = new_order(merchant_id), new_order(merchant_id)
        with pytest.raises(RollbackOnly):
            async with units() as outer:
                await outer.orders.add(outer_order)
                async with units() as inner:
                    await inner.orders.add(inner_order)  # no commit: the whole transaction must go
                await outer.commit()
        assert not await stored(units, outer_order) and not await stored(units, inner_order)
        assert bus.published == []

    async def test_a_nested_unit_that_raised_makes_the_outer_rollback_only(self, units, bus, merchant_id):
        outer_order = new_order(merchant_id)
        with pytest.raises(RollbackOnly):
            async with units() as outer:
                await outer.orders.add(outer_order)
                with pytest.raises(ValueError):
                    async with units():
                        raise ValueError("the use case gave up")
                await outer.commit()
        assert not await stored(units, outer_order)

    async def test_a_read_only_nested_unit_leaves_the_outer_alone(self, units, bus, merchant_id):
        order = new_order(merchant_id)
        async with units() as outer:
            await outer.orders.add(order)
            async with units() as reader:
                await reader.orders.get(merchant_id, order.id)
            await outer.commit()
        assert await stored(units, order)

    async def test_a_committed_nested_unit_goes_if_the_outer_does_not_commit(self, units, bus, merchant_id):
        inner_order = new_order(merchant_id)
        async with units():
            async with units() as inner:
                await inner.orders.add(inner_order)
                await inner.commit()
        assert not await stored(units, inner_order) and bus.published == []

    async def test_a_single_statement_unit_writes_its_inserts_at_its_commit(self, units, bus, merchant_id):
        order = new_order(merchant_id)
        async with units.single_statement() as unit:
            assert await unit.orders.add(order)
            assert not await committed(units, order)  # nothing sent before the commit
            await unit.commit()
            assert await committed(units, order)  # the statement committed itself
        assert [(e.type, e.aggregate_id) for e in bus.published] == [("order.created", order.id)]

    async def test_a_single_statement_unit_with_a_taken_reference_writes_nothing(self, units, bus, merchant_id):
        first = new_order(merchant_id, "ref-taken")
        async with units() as unit:
            await unit.orders.add(first)
            await unit.commit()
        second, other = new_order(merchant_id, "ref-taken"), new_order(merchant_id, "ref-free")
        with pytest.raises(DuplicateOrder) as refused:
            async with units.single_statement() as unit:
                assert await unit.orders.add(other)
                assert await unit.orders.add(second)  # known only at the commit
                await unit.commit()
        assert refused.value.details["existing_order_id"] == str(first.id)
        assert not await committed(units, second) and not await committed(units, other)
        assert [e.aggregate_id for e in bus.published] == [first.id]

    async def test_single_statement_units_nested_in_one_write_with_its_commit(self, units, bus, merchant_id):
        outer_order, inner_order = new_order(merchant_id), new_order(merchant_id)
        async with units.single_statement() as outer:
            await outer.orders.add(outer_order)
            async with units.single_statement() as inner:
                await inner.orders.add(inner_order)
                await inner.commit()
            assert not await committed(units, inner_order)
            await outer.commit()
        assert await committed(units, outer_order) and await committed(units, inner_order)
        assert sorted(e.aggregate_id for e in bus.published) == sorted([outer_order.id, inner_order.id])

    async def test_a_single_statement_unit_in_a_transaction_joins_it(self, units, bus, merchant_id):
        order = new_order(merchant_id, "ref-joined")
        async with units() as outer:
            async with units.single_statement() as inner:
                assert await inner.orders.add(order)
                assert not await inner.orders.add(new_order(merchant_id, "ref-joined"))  # answered at once
                await inner.commit()
            assert await outer.orders.get(merchant_id, order.id) is not None
            await outer.commit()
        assert await committed(units, order)

    async def test_a_transactional_unit_cannot_join_a_single_statement_one(self, units, bus, merchant_id):
        with pytest.raises(RuntimeError):
            async with units.single_statement():
                async with units():
                    pass
        async with units.single_statement() as unit:
            async with units.reading() as reader:  # reads are fine
                assert await reader.orders.get(merchant_id, uuid.uuid4()) is None
            await unit.commit()  # nothing to write: nothing sent

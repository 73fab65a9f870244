"""GroupCommit's turn-taking (app/adapters/db/group_commit.py) without a server: the
statements are fakes that wait until the test lets them finish; what PostgreSQL does with
a batch is tests/integration/test_group_commit.py's."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from app.adapters.db import group_commit
from app.adapters.db.commit_writes import CommitWrites, KeyNotClaimed
from app.adapters.db.group_commit import GroupCommit

ORDER_ROW = ("order",)


class Unit(CommitWrites):
    """A unit's writes whose own statement is recorded and finishes when `release` is set."""

    def __init__(self, name: str, key: str | None = None, ttl: float = 86400.0) -> None:
        super().__init__(orders=[ORDER_ROW])
        self.name = name
        self.claim = None if key is None else ("merchant", key, "fingerprint", ttl, 201, b"{}")
        self.release = asyncio.Event()
        self.alone: list[str] = []  # appended when its own statement was sent

    async def run(self, connection: asyncpg.Connection) -> None:
        self.alone.append(self.name)
        await self.release.wait()


class Batches:
    """The fake run_batch: records each batch's units, answers `outcome` once released."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []
        self.release = asyncio.Event()
        self.outcome: Any = None  # None: all written; a list of bools; or an exception

    async def __call__(self, units: list[CommitWrites], ttl_s: float, connection: Any) -> list[bool]:
        self.sent.append([unit.name for unit in units])  # type: ignore[attr-defined]
        await self.release.wait()
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome or [True] * len(units)


@pytest.fixture
def batches(monkeypatch) -> Batches:
    fake = Batches()
    monkeypatch.setattr(group_commit, "run_batch", fake)
    return fake


async def started(group: GroupCommit, *units: Unit) -> list[asyncio.Task[None]]:
    tasks = []
    for unit in units:
        tasks.append(asyncio.create_task(group.commit(unit, connection=None)))  # type: ignore[arg-type]
        await asyncio.sleep(0)  # each reaches its turn in order
    return tasks


async def finished(*tasks: asyncio.Future[Any]) -> list[Any]:
    return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=5)


async def test_a_unit_alone_sends_its_own_statement_at_once(batches):
    unit = Unit("a", "k1")
    unit.release.set()
    await GroupCommit().commit(unit, connection=None)  # type: ignore[arg-type]
    assert unit.alone == ["a"] and batches.sent == []


async def test_units_arriving_while_a_statement_is_on_its_way_share_the_next_one(batches):
    group = GroupCommit()
    first, *others = [Unit(name, f"k-{name}") for name in "abcd"]
    tasks = await started(group, first, *others)
    assert first.alone == ["a"] and batches.sent == []  # the others wait for it
    first.release.set()
    batches.release.set()
    await finished(*tasks)
    assert batches.sent == [["b", "c", "d"]]  # the first waiting leads, with the rest
    assert all(unit.alone == [] for unit in others)


async def test_a_unit_whose_key_was_not_claimed_fails_alone(batches):
    group = GroupCommit()
    first, b, c = Unit("a", "k1"), Unit("b", "k2"), Unit("c", "k3")
    tasks = await started(group, first, b, c)
    batches.outcome = [True, False]
    first.release.set()
    batches.release.set()
    results = await finished(*tasks)
    assert results[0] is None and results[1] is None
    assert isinstance(results[2], KeyNotClaimed) and not results[2].busy


async def test_one_key_twice_goes_in_two_batches(batches):
    group = GroupCommit()
    units = [Unit("a", "k0"), Unit("b", "same"), Unit("c", "same"), Unit("d", "k4"), Unit("e", "k5", ttl=60.0)]
    tasks = await started(group, *units)
    for unit in units:
        unit.release.set()
    batches.release.set()
    await finished(*tasks)
    # b leads with d; c (b's key) and e (another claim TTL) wait, then go one by one
    assert batches.sent == [["b", "d"]] and [unit.alone for unit in units[2:]] == [["c"], [], ["e"]]


async def test_a_batch_refused_as_a_whole_sends_each_unit_alone(batches):
    group = GroupCommit()
    first, b, c = Unit("a", "k1"), Unit("b", "k2"), Unit("c")
    tasks = await started(group, first, b, c)
    batches.outcome = asyncpg.UniqueViolationError("duplicate key")
    for unit in (first, b, c):
        unit.release.set()
    batches.release.set()
    await finished(*tasks)
    assert batches.sent == [["b", "c"]] and b.alone == ["b"] and c.alone == ["c"]


async def test_a_lost_connection_is_every_units_outage_and_none_goes_alone(batches):
    group = GroupCommit()
    first, b, c = Unit("a", "k1"), Unit("b", "k2"), Unit("c", "k3")
    tasks = await started(group, first, b, c)
    batches.outcome = asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
    first.release.set()
    batches.release.set()
    results = await finished(*tasks)
    assert results[0] is None
    assert all(isinstance(result, asyncpg.ConnectionDoesNotExistError) for result in results[1:])
    assert b.alone == [] and c.alone == []


async def test_a_unit_cancelled_while_waiting_is_never_sent(batches):
    group = GroupCommit()
    first, b, c = Unit("a", "k1"), Unit("b", "k2"), Unit("c", "k3")
    tasks = await started(group, first, b, c)
    tasks[1].cancel()
    await asyncio.sleep(0)
    first.release.set()
    c.release.set()
    await finished(tasks[0], tasks[2])
    assert tasks[1].cancelled() and batches.sent == [] and c.alone == ["c"]  # c then led, alone


async def test_a_cancelled_leader_hands_its_turn_on(batches):
    group = GroupCommit()
    first, b, c = Unit("a", "k1"), Unit("b", "k2"), Unit("c", "k3")
    tasks = await started(group, first, b)
    first.release.set()
    await asyncio.sleep(0)  # the first is done and has handed its turn to b ...
    tasks[1].cancel()  # ... which is cancelled before it could lead
    c.release.set()
    await finished(tasks[0], *await started(group, c))
    assert c.alone == ["c"]  # the group is not stuck
    assert tasks[1].cancelled() and b.alone == []


async def test_a_statement_on_its_way_too_long_stops_holding_the_others(batches, monkeypatch):
    monkeypatch.setattr(group_commit, "HAND_ON_AFTER_S", 0.01)
    group = GroupCommit()
    stuck, b, c = Unit("a", "k1"), Unit("b", "k2"), Unit("c", "k3")  # a waits on a lock elsewhere
    tasks = await started(group, stuck, b, c)
    batches.release.set()
    await finished(tasks[1], tasks[2])
    assert batches.sent == [["b", "c"]] and not tasks[0].done()
    stuck.release.set()
    await tasks[0]

"""SharedRead (the key-revocation version's GET, shared by concurrent requests): callers
arriving before a read is sent share it; a caller arriving after it was sent never gets
its answer, so a change written before a request arrived is always seen."""

from __future__ import annotations

import asyncio

import pytest

from app.adapters.redis.shared_read import SharedRead


class SlowStore:
    """A value behind a read the test answers by hand: each read is sent (recorded with the
    value it will see, as Redis answers what it holds when the command arrives) and waits."""

    def __init__(self) -> None:
        self.value = "v1"
        self.sent: list[tuple[str, asyncio.Future[str]]] = []

    async def read(self) -> str:
        answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.sent.append((self.value, answer))
        return await answer

    def answer(self, index: int = -1) -> None:
        value, answer = self.sent[index]
        answer.set_result(value)


async def turns(n: int = 3) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_callers_arriving_together_share_one_read():
    store = SlowStore()
    shared = SharedRead(store.read)
    callers = [asyncio.ensure_future(shared()) for _ in range(5)]
    await turns()
    assert len(store.sent) == 1
    store.answer()
    assert await asyncio.gather(*callers) == ["v1"] * 5


async def test_a_caller_arriving_after_the_read_was_sent_waits_for_the_next_one():
    store = SlowStore()
    shared = SharedRead(store.read)
    early = asyncio.ensure_future(shared())
    await turns()  # the first read is on its way, seeing v1
    store.value = "v2"  # a revocation, written before the late callers arrive
    late = [asyncio.ensure_future(shared()) for _ in range(3)]
    await turns()
    assert len(store.sent) == 1  # one read in flight at a time: the next goes when it is answered
    store.answer(0)
    assert await early == "v1"
    await turns()
    assert len(store.sent) == 2 and not any(caller.done() for caller in late)  # v1 is not theirs
    store.answer(1)
    assert await asyncio.gather(*late) == ["v2"] * 3


async def test_a_read_never_answered_does_not_hold_the_next_one_back():
    store = SlowStore()
    shared = SharedRead(store.read, stalled_s=0.05)
    stuck = asyncio.ensure_future(shared())
    await turns()
    await asyncio.sleep(0.06)
    later = asyncio.ensure_future(shared())
    await turns()
    assert len(store.sent) == 2
    store.answer(1)
    assert await later == "v1"
    stuck.cancel()


async def test_an_error_reaches_every_caller_of_the_read():
    async def down() -> str:
        await asyncio.sleep(0)
        raise ConnectionError("Redis is down")

    shared = SharedRead(down)
    results = await asyncio.gather(*(shared() for _ in range(3)), return_exceptions=True)
    assert [type(result) for result in results] == [ConnectionError] * 3
    # and the next read is tried afresh
    with pytest.raises(ConnectionError):
        await shared()


async def test_a_cancelled_caller_leaves_the_read_to_the_others():
    store = SlowStore()
    shared = SharedRead(store.read)
    leaving, staying = asyncio.ensure_future(shared()), asyncio.ensure_future(shared())
    await turns()
    leaving.cancel()
    await turns()
    store.answer()
    assert await staying == "v1"
    assert leaving.cancelled()

"""Group commit of single-statement insert units (POST /orders): while one unit's
statement is on its way to PostgreSQL, the units that commit meanwhile in this process
wait, and the first of them then writes all of theirs in one statement
(commit_writes.run_batch). Each order then no longer pays for a statement, a commit and a
WAL flush of its own — under load the commit's flush, not the inserts, is most of
PostgreSQL's work per order — and the API process sends one message instead of several.
A unit that commits while nothing is on its way goes at once, with its own statement, as
before: no unit ever waits for others to arrive.

Each unit's outcome is its own, as with its own statement: its rows are written, all of
them, only if its idempotency claim got the key; a unit whose key is another request's
gets KeyNotClaimed and writes nothing, beside units that were written. When PostgreSQL
refuses the shared statement as a whole (an order's merchant reference taken, a lock
timeout or a deadlock on a key), nothing of it was written, and each unit's own statement
runs instead, one after the other, so a unit's failure is never another's. A lost
connection is every unit's outage (503, retried with the same Idempotency-Key), exactly as
for a unit alone.

The batch runs on the connection of the unit that leads it (idle meanwhile: its unit is
waiting for its commit), never on a connection the units do not already hold, so group
commit needs no connection beyond the pool's and cannot wait for one. No unit waits long
for another's statement: one on its way longer than HAND_ON_AFTER_S (a lock held
elsewhere, say) hands on to the next batch, and a batch waits for a lock at most
commit_writes.BATCH_LOCK_TIMEOUT before each of its units goes alone."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from app.adapters.db.commit_writes import CommitWrites, KeyNotClaimed, batchable, run_batch
from app.adapters.outages import outage_of

MAX_UNITS = 64  # units per statement: enough to share a flush, bounded parameter arrays
# A statement still on its way after this long (waiting on a lock, a busy server) stops
# holding up the units that arrive meanwhile: the first of them leads a batch of its own.
HAND_ON_AFTER_S = 0.05
_LEAD = object()  # a waiting unit's turn: it writes the next batch
_ALONE = object()  # the batch it was in was refused as a whole: it writes with its own statement


@dataclass(eq=False, slots=True)
class _Waiting:
    writes: CommitWrites
    turn: asyncio.Future[Any]  # _LEAD, None (written by another unit's batch) or its exception


@dataclass(slots=True)
class _State:
    busy: bool = False  # a statement is on its way (or a unit is about to lead the next)
    waiting: deque[_Waiting] = field(default_factory=deque)


class GroupCommit:
    """One per process; its state is per event loop (tests run several loops)."""

    def __init__(self, max_units: int = MAX_UNITS) -> None:
        self._max_units = max_units
        self._states: dict[asyncio.AbstractEventLoop, _State] = {}

    async def commit(self, writes: CommitWrites, connection: asyncpg.Connection) -> None:
        """Writes `writes` (a single-statement root unit's) on `connection`, with others'
        when they can share a statement. Raises as CommitWrites.run does."""
        if not batchable(writes):
            await writes.run(connection)
            return
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            for closed in [known for known in self._states if known.is_closed()]:
                del self._states[closed]  # test suites run one loop per test
            state = self._states[loop] = _State()
        if state.busy:
            waiting = _Waiting(writes, loop.create_future())
            state.waiting.append(waiting)
            try:
                turn = await waiting.turn
            except asyncio.CancelledError:
                self._cancelled(state, waiting)
                raise
            if turn is _ALONE:
                await writes.run(connection)
            if turn is not _LEAD:
                return  # written, by another unit's batch or (_ALONE) by its own statement
        else:
            state.busy = True
        handed_on = False

        def overdue() -> None:
            nonlocal handed_on
            handed_on = True
            self._hand_on(state)

        timer = loop.call_later(HAND_ON_AFTER_S, overdue)
        try:
            alone = await self._write(writes, self._take(state, writes), connection)
        finally:
            timer.cancel()
            if not handed_on:
                self._hand_on(state)
        if alone:
            await writes.run(connection)

    def _take(self, state: _State, leader: CommitWrites) -> list[_Waiting]:
        """The waiting units to write with the leader's: up to the batch size, one per
        idempotency key (a key twice in one INSERT ... ON CONFLICT is an error) and one
        claim TTL; the others wait for the next batch, in their order."""
        taken: list[_Waiting] = []
        keys = {_key(leader)}
        ttl = _ttl(leader)
        kept: deque[_Waiting] = deque()
        while state.waiting:
            waiting = state.waiting.popleft()
            key = _key(waiting.writes)
            if len(taken) + 1 >= self._max_units or (key is not None and key in keys) or (
                    ttl is not None and _ttl(waiting.writes) not in (None, ttl)):
                kept.append(waiting)
                continue
            keys.add(key)
            ttl = ttl if ttl is not None else _ttl(waiting.writes)
            taken.append(waiting)
        state.waiting = kept
        return taken

    @staticmethod
    def _hand_on(state: _State) -> None:
        """The statement is done: the first waiting unit writes the next batch."""
        while state.waiting:
            waiting = state.waiting.popleft()
            if not waiting.turn.done():
                waiting.turn.set_result(_LEAD)
                return
        state.busy = False

    def _cancelled(self, state: _State, waiting: _Waiting) -> None:
        if waiting in state.waiting:
            state.waiting.remove(waiting)  # never sent: nothing of it is written
        elif waiting.turn.done() and not waiting.turn.cancelled() and waiting.turn.result() is _LEAD:
            self._hand_on(state)  # its turn to lead came with the cancellation: the next one leads
        # else: taken into a batch already on its way, which writes it (as a cancellation
        # during a unit's own statement may still let it commit)

    @staticmethod
    async def _write(writes: CommitWrites, others: list[_Waiting], connection: asyncpg.Connection) -> bool:
        """The leader's and the others' writes. True: the batch was refused as a whole, so
        each unit writes alone (the leader too, once it has handed on)."""
        if not others:
            await writes.run(connection)
            return False
        units = [writes, *(waiting.writes for waiting in others)]
        try:
            written = await run_batch(units, _ttl_of(units), connection)
        except asyncpg.PostgresError as exc:
            if outage_of(exc) is not None:
                _settle(others, exc)
                raise
            # Nothing was written (a merchant reference taken, a key's lock not granted in
            # time): each unit's own statement, on its own connection, at once, as without
            # group commit, so one unit's conflict neither fails nor delays another.
            _settle(others, _ALONE)
            return True
        except BaseException as exc:  # the connection lost or this task cancelled: outcome unknown
            _settle(others, exc if isinstance(exc, Exception) else asyncpg.ConnectionDoesNotExistError(
                "the statement that carried this request's writes was interrupted"))
            raise
        for waiting, done in zip(others, written[1:], strict=True):
            _settle([waiting], None if done else KeyNotClaimed(busy=False))
        if not written[0]:
            raise KeyNotClaimed(busy=False)
        return False


def _settle(units: list[_Waiting], outcome: object) -> None:
    """Each waiting unit's outcome: an exception to raise, or its turn's result."""
    for waiting in units:
        if waiting.turn.done():  # cancelled meanwhile
            continue
        if isinstance(outcome, BaseException):
            waiting.turn.set_exception(outcome)
        else:
            waiting.turn.set_result(outcome)


def _key(writes: CommitWrites) -> tuple[Any, Any] | None:
    return None if writes.claim is None else (writes.claim[0], writes.claim[1])


def _ttl(writes: CommitWrites) -> float | None:
    return None if writes.claim is None else float(writes.claim[3])


def _ttl_of(units: list[CommitWrites]) -> float:
    return next((ttl for unit in units if (ttl := _ttl(unit)) is not None), 0.0)

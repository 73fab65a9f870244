"""One read shared by the concurrent callers that asked for it before it was sent.

Callers arriving while no read is under way schedule one (sent at the event loop's next
turn, so every caller arriving until then shares it). Callers arriving once it has been
sent never get its answer: they wait for the next read, sent as soon as that one is
answered. So whatever a caller gets was read after it asked, and a change written before
it asked is always seen, while the requests of a busy process share a round trip: one
read in flight at a time, each for everyone who arrived during the previous one.

A read unanswered for `stalled_s` (a dead connection) does not hold the next one back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedRead(Generic[T]):
    def __init__(self, read: Callable[[], Awaitable[T]], stalled_s: float = 1.0) -> None:
        self._read, self._stalled_s = read, stalled_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: list[asyncio.Future[T]] = []  # the callers of the next read
        self._scheduled = False  # a task will take `_waiting` at its first step
        self._latest: object | None = None  # the read sent last, while unanswered
        self._latest_sent_at = 0.0
        self._sending: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks

    async def __call__(self) -> T:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # the first call, or a new loop (tests): nothing of the old one holds
            self._loop, self._waiting, self._scheduled, self._latest = loop, [], False, None
        # A future per caller: a caller cancelled (a client gone) cancels its own wait only.
        waiter: asyncio.Future[T] = loop.create_future()
        self._waiting.append(waiter)
        if not self._scheduled and (self._latest is None
                                    or loop.time() - self._latest_sent_at > self._stalled_s):
            self._schedule(loop)
        return await waiter

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled = True
        task = loop.create_task(self._send(loop))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, loop: asyncio.AbstractEventLoop) -> None:
        # From here on, arrivals wait for the next read.
        waiting, self._waiting, self._scheduled = self._waiting, [], False
        this = self._latest = object()
        self._latest_sent_at = loop.time()
        try:
            value = await self._read()
        except Exception as exc:  # every caller gets the read's error
            for waiter in waiting:
                if not waiter.done():
                    waiter.set_exception(exc)
        except BaseException:  # cancelled (the loop shutting down): so are the callers
            for waiter in waiting:
                waiter.cancel()
            raise
        else:
            for waiter in waiting:
                if not waiter.done():
                    waiter.set_result(value)
        finally:
            if self._latest is this:
                self._latest = None
                if self._waiting and not self._scheduled and self._loop is loop:
                    self._schedule(loop)

"""One read shared by the concurrent callers that asked for it before it was sent.

A caller joins the read that has not been sent yet, or schedules one (it is sent at the
event loop's next turn, so every caller arriving until then shares it). A caller arriving
once it has been sent never gets its answer: it waits for the next read. So whatever a
caller gets was read after it asked, and a change written before it asked is always seen,
while N requests arriving together cost one round trip instead of N."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SharedRead(Generic[T]):
    def __init__(self, read: Callable[[], Awaitable[T]]) -> None:
        self._read = read
        self._waiting: list[asyncio.Future[T]] | None = None  # the callers of the read not sent yet
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sending: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks

    async def __call__(self) -> T:
        loop = asyncio.get_running_loop()
        # A future per caller: a caller cancelled (a client gone) cancels its own wait only.
        waiter: asyncio.Future[T] = loop.create_future()
        if self._waiting is not None and self._loop is loop:
            self._waiting.append(waiter)
        else:  # none scheduled (or for another loop: a test's closed one)
            self._waiting, self._loop = [waiter], loop
            task = loop.create_task(self._send(self._waiting))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        return await waiter

    async def _send(self, waiting: list[asyncio.Future[T]]) -> None:
        if self._waiting is waiting:  # from here on, arrivals wait for the next read
            self._waiting = None
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

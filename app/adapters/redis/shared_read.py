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
        self._next: asyncio.Future[T] | None = None  # the read not sent yet, that arrivals join
        self._sending: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks

    async def __call__(self) -> T:
        loop = asyncio.get_running_loop()
        future = self._next
        if future is None or future.get_loop() is not loop:  # (another loop's: a test's closed one)
            future = self._next = loop.create_future()
            task = loop.create_task(self._send(future))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        # shield: a caller cancelled (a client gone) must not cancel the read the others wait for
        return await asyncio.shield(future)

    async def _send(self, future: asyncio.Future[T]) -> None:
        if self._next is future:  # from here on, arrivals wait for the next read
            self._next = None
        try:
            value = await self._read()
        except Exception as exc:  # every caller gets the read's error
            future.set_exception(exc)
        except BaseException:  # cancelled (the loop shutting down): so are the callers
            future.cancel()
            raise
        else:
            future.set_result(value)

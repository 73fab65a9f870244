"""Our Dramatiq middleware: the correlation id in every actor log line, the process's
Container (one per worker process) for the actors, and async actors on one event loop per
process (uvloop, with a cheaper thread hand-off than Dramatiq's), or on a loop we already
run."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, cast

import structlog
from dramatiq import Broker, Middleware
from dramatiq.broker import MessageProxy
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread, set_event_loop_thread
from dramatiq.logging import get_logger
from dramatiq.middleware import AsyncIO
from dramatiq.threading import Interrupt

from app.bootstrap import Container

R = TypeVar("R")

# Message options our middleware and actors read; declared so actors may set them too.
CORRELATION_ID = "correlation_id"


class CorrelationLogging(Middleware):
    """Binds the message's correlation id (from the outbox row that caused it) and ids into
    structlog's contextvars before the actor runs. Async actors see them too: the event
    loop thread runs each coroutine in a copy of the worker thread's context."""

    @property
    def actor_options(self) -> set[str]:
        return {CORRELATION_ID}

    def before_process_message(self, broker: Broker, message: MessageProxy) -> None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            correlation_id=message.options.get(CORRELATION_ID) or message.message_id,
            message_id=message.message_id, actor=message.actor_name,
            retries=message.options.get("retries", 0),
        )

    def after_process_message(self, broker: Broker, message: MessageProxy, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        structlog.contextvars.clear_contextvars()

    after_skip_message = after_process_message


class ContainerBoot(Middleware):
    """Holds the Container this process's actors use. Unless one was given (tests, a
    process embedding a worker), builds and starts it at worker boot on the AsyncIO
    middleware's event loop, so the asyncpg pool lives on the loop that uses it, and stops
    it at shutdown. A boot that fails (the database restarting) is tried again by the next
    actor, whose message is retried if it fails again. Must come after AsyncIO."""

    def __init__(self, factory: Callable[[Broker], Awaitable[Container]], container: Container | None = None) -> None:
        self._factory = factory  # async (broker) -> a started Container
        self._container = container
        self._owned = False
        self._broker: Broker | None = None
        self._booting: asyncio.Lock | None = None

    async def container(self) -> Container:
        """The Container, booting it first if the boot has not succeeded yet."""
        if self._container is None:
            self._booting = self._booting or asyncio.Lock()
            async with self._booting:  # actors share one loop: boot once, not per thread
                if self._container is None:
                    if self._broker is None:
                        raise RuntimeError("the worker has not booted")
                    self._container, self._owned = await self._factory(self._broker), True
        return self._container

    @property
    def booted(self) -> bool:
        """Whether the Container is up (the readiness a worker process beats)."""
        return self._container is not None

    def use(self, container: Container) -> None:
        """Run the actors against `container` from now on (tests swap in stand-ins)."""
        self._container = container

    def before_worker_boot(self, broker: Broker, worker: Any) -> None:
        self._broker = broker
        if self._container is None:
            try:
                _loop_thread().run_coroutine(self.container())
            except Exception as exc:  # e.g. PostgreSQL restarting: the first actor tries again
                structlog.get_logger("fusionxpay.workers").warning(
                    "container_boot_failed", error=f"{type(exc).__name__}: {exc}")

    def after_worker_shutdown(self, broker: Broker, worker: Any) -> None:
        if self._owned and self._container is not None:
            _loop_thread().run_coroutine(self._container.stop())
            self._container, self._owned = None, False


def _loop_thread() -> EventLoopThread:
    loop_thread = get_event_loop_thread()
    if loop_thread is None:
        raise RuntimeError("the AsyncIO middleware must come before ContainerBoot")
    return loop_thread


class _RunningLoop(EventLoopThread):
    """An EventLoopThread facade over a loop that is already running elsewhere."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:  # no thread of our own
        self.interrupt_check_ival = 0.1
        self.logger = get_logger(__name__, type(self))
        self.loop = loop


class SharedLoopAsyncIO(AsyncIO):
    """AsyncIO middleware that runs async actors on an existing, running event loop (a
    test's, or a process that embeds a worker) instead of starting its own: actors then
    share that loop's connection pools. The loop must stay free while workers run."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop

    def before_worker_boot(self, broker: Broker, worker: Any) -> None:
        set_event_loop_thread(_RunningLoop(self._loop))

    def after_worker_shutdown(self, broker: Broker, worker: Any) -> None:
        set_event_loop_thread(None)


class ProcessLoop(EventLoopThread):
    """The worker process's event loop thread: uvloop (asyncpg, httpx and Redis I/O cost
    less CPU on it), and a hand-off that wakes the waiting worker thread with one lock
    release instead of Dramatiq's concurrent future and event (two condition variables
    notified per actor run). The coroutine still runs in a copy of the worker thread's
    context (call_soon_threadsafe captures it), so correlation ids, the current message
    and the trace span reach it as before."""

    def __init__(self, logger: Any, interrupt_check_ival: float = 0.1) -> None:
        import uvloop

        threading.Thread.__init__(self)  # (not a daemon: stopped at worker shutdown, as Dramatiq's)
        self.interrupt_check_ival = interrupt_check_ival
        self.logger = logger
        self.loop = uvloop.new_event_loop()

    def run_coroutine(self, coro: Awaitable[R]) -> R:
        if not self.loop.is_running():
            raise RuntimeError("Event loop is not running.")
        done = threading.Lock()
        done.acquire()
        tasks: list[asyncio.Task[R]] = []

        def start() -> None:
            task: asyncio.Task[R] = self.loop.create_task(cast("Coroutine[Any, Any, R]", coro))
            task.add_done_callback(lambda _: done.release())
            tasks.append(task)

        self.loop.call_soon_threadsafe(start)
        try:
            # A timeout, so Dramatiq's asynchronously raised Interrupt (time limit,
            # shutdown) reaches this thread while it waits.
            while not done.acquire(timeout=self.interrupt_check_ival):
                pass
        except Interrupt:
            self.loop.call_soon_threadsafe(lambda: tasks and tasks[0].cancel())
            if not done.acquire(timeout=1.0):  # the coroutine's cleanup, as Dramatiq waits for it
                raise RuntimeError("Timed out while waiting for coroutine.") from None
            raise
        return tasks[0].result()


class ProcessLoopAsyncIO(AsyncIO):
    """Dramatiq's AsyncIO middleware with the ProcessLoop."""

    def before_worker_boot(self, broker: Broker, worker: Any) -> None:
        loop_thread = ProcessLoop(self.logger)
        loop_thread.start(timeout=1.0)
        set_event_loop_thread(loop_thread)

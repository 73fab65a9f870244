"""Our Dramatiq middleware: the correlation id in every actor log line, the per-process
services (one Container per worker process), and async actors on a loop we already run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from dramatiq import Broker, Message, Middleware
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread, set_event_loop_thread
from dramatiq.logging import get_logger
from dramatiq.middleware import AsyncIO

from app.workers import runtime

# Message options our middleware and actors read; declared so actors may set them too.
CORRELATION_ID = "correlation_id"


class CorrelationLogging(Middleware):
    """Binds the message's correlation id (from the outbox row that caused it) and ids into
    structlog's contextvars before the actor runs. Async actors see them too: the event
    loop thread runs each coroutine in a copy of the worker thread's context."""

    @property
    def actor_options(self) -> set[str]:
        return {CORRELATION_ID}

    def before_process_message(self, broker: Broker, message: Message) -> None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(
            correlation_id=message.options.get(CORRELATION_ID) or message.message_id,
            message_id=message.message_id, actor=message.actor_name,
            retries=message.options.get("retries", 0),
        )

    def after_process_message(self, broker: Broker, message: Message, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        structlog.contextvars.clear_contextvars()

    after_skip_message = after_process_message


class WorkerServicesBoot(Middleware):
    """Builds this worker process's services (Container, relay, webhooks...) once, on the
    AsyncIO middleware's event loop, so the asyncpg pool lives on the loop that uses it.
    Must come after AsyncIO in the middleware list (boot after it, shut down before it)."""

    def __init__(self, factory: Callable[[Broker], Any]) -> None:
        self._factory = factory  # async (broker) -> WorkerServices
        self._owned = False

    def before_worker_boot(self, broker: Broker, worker: Any) -> None:
        if runtime.is_set():  # tests and embedded workers bring their own
            return
        loop_thread = get_event_loop_thread()
        runtime.use(loop_thread.run_coroutine(self._factory(broker)))
        self._owned = True

    def after_worker_shutdown(self, broker: Broker, worker: Any) -> None:
        if self._owned:
            services, loop_thread = runtime.services(), get_event_loop_thread()
            loop_thread.run_coroutine(services.aclose())
            loop_thread.run_coroutine(services.container.stop())
            runtime.clear()
            self._owned = False


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

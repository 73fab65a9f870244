"""The worker process's event loop thread (app/workers/middleware.py ProcessLoop): an async
actor's coroutine runs on it with the worker thread's context, its result or exception
comes back to the worker thread, and Dramatiq's interrupt (a time limit) cancels it."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time

import pytest
from dramatiq.middleware.time_limit import TimeLimitExceeded
from dramatiq.threading import raise_thread_exception

from app.workers.middleware import ProcessLoop

REQUEST = contextvars.ContextVar("request", default=None)


@pytest.fixture
def loop_thread():
    thread = ProcessLoop(logging.getLogger("test"))
    thread.start(timeout=5.0)
    yield thread
    thread.stop()


def _in_thread(target):
    """Run `target` in a fresh thread (a Dramatiq worker thread); its result or exception."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = target()
        except BaseException as exc:  # noqa: BLE001 (the test inspects it)
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_results_exceptions_and_context_cross_to_the_worker_thread(loop_thread):
    async def echo() -> tuple[str | None, bool]:
        await asyncio.sleep(0)
        return REQUEST.get(), threading.current_thread() is loop_thread

    async def fail() -> None:
        raise ValueError("from the loop")

    def worker() -> tuple:
        REQUEST.set("req-1")  # bound in the worker thread (CorrelationLogging, CurrentMessage)
        seen = loop_thread.run_coroutine(echo())
        with pytest.raises(ValueError, match="from the loop"):
            loop_thread.run_coroutine(fail())
        return seen

    thread, outcome = _in_thread(worker)
    thread.join(10)
    assert outcome == {"result": ("req-1", True)}


def test_an_interrupt_cancels_the_coroutine_and_reaches_the_worker_thread(loop_thread):
    cancelled = threading.Event()

    async def slow() -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    thread, outcome = _in_thread(lambda: loop_thread.run_coroutine(slow()))
    time.sleep(0.3)  # the coroutine is running, the worker thread waits for it
    raise_thread_exception(thread.ident, TimeLimitExceeded)  # what the TimeLimit middleware does
    thread.join(10)
    assert isinstance(outcome.get("error"), TimeLimitExceeded)
    assert cancelled.is_set()

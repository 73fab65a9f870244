"""In-process event bus: after a commit, each event's consumers (from the domain's one
routing table) run as background tasks, by the same names the actors carry.

Used where no workers run (tests, a single process). It is best effort — a crash loses
what was in flight, and a delayed webhook retry lives only in this process — which is why
production uses the outbox relay; both run the same consumers, so switching is wiring."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog

from app.domain.events import DomainEvent
from app.domain.routing import EVENT_ROUTES, NOTIFY_MERCHANT, SEND_NOTIFICATION, Route, messages_for

Consumer = Callable[..., Awaitable[Any]]
logger = structlog.get_logger("fusionxpay.bus")


class InProcessEventBus:
    def __init__(self, routes: Mapping[str, tuple[Route, ...]] = EVENT_ROUTES) -> None:
        self.routes = routes
        self.consumers: Mapping[str, Consumer] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._delayed: set[asyncio.Task[None]] = set()
        # Run first in each handler's task (its own copy of the sender's context): leaves the
        # sender's open transaction, if any (a retry scheduled inside a unit of work).
        self.detach: Callable[[], None] | None = None

    def serve(self, consumers: Mapping[str, Consumer]) -> None:
        """The handlers by consumer name (set once the use cases exist)."""
        self.consumers = consumers

    async def publish(self, events: list[DomainEvent]) -> None:
        for event in events:
            for consumer, kwargs in messages_for(event, self.routes):
                self.send(consumer, kwargs)

    def send(self, consumer: str, kwargs: dict[str, Any], delay_s: float = 0.0) -> None:
        handler = self.consumers.get(consumer)
        if handler is None:
            logger.error("no_in_process_consumer", consumer=consumer)
            return
        task = asyncio.create_task(self._run(consumer, handler, kwargs, delay_s))
        tasks = self._delayed if delay_s > 0 else self._tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _run(self, consumer: str, handler: Consumer, kwargs: dict[str, Any], delay_s: float) -> None:
        if self.detach is not None:
            self.detach()
        if delay_s > 0:
            await asyncio.sleep(delay_s)  # a scheduled retry, not synchronisation
        try:
            await handler(**kwargs)
        except Exception:
            logger.exception("event_handler_failed", consumer=consumer, **kwargs)

    async def drain(self) -> None:
        """Wait for the handlers in flight (shutdown, tests); drop scheduled retries."""
        for task in list(self._delayed):
            task.cancel()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class InProcessRetryScheduler:
    """The webhook use case's RetryScheduler without workers: the next attempt runs in
    this process after the delay."""

    def __init__(self, bus: InProcessEventBus) -> None:
        self._bus = bus

    async def schedule(self, event_id: uuid.UUID, attempt: int, delay_s: float, *, resend: bool = False) -> None:
        self._bus.send(NOTIFY_MERCHANT, {"event_id": str(event_id), "attempt": attempt, "resend": resend}, delay_s)


class InProcessNotificationRetries:
    """The shopper notifications' retries without workers: the next attempt runs in this
    process after the delay (the job row holds it too, due at that time)."""

    def __init__(self, bus: InProcessEventBus) -> None:
        self._bus = bus

    async def schedule(self, delivery_id: uuid.UUID, delay_s: float) -> None:
        self._bus.send(SEND_NOTIFICATION, {"delivery_id": str(delivery_id)}, delay_s)

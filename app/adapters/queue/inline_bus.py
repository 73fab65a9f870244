"""In-process event bus: after a commit, each event's handlers run as background tasks.

Used where no workers run (tests, a single process). It is best effort — a crash loses
what was in flight — which is why production uses the outbox relay; both call the same
handlers, so switching is wiring, not a rewrite."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from app.domain.events import DomainEvent

Handler = Callable[[DomainEvent], Awaitable[None]]
logger = structlog.get_logger("fusionxpay.bus")


class InProcessEventBus:
    def __init__(self, handlers: dict[str, list[Handler]] | None = None) -> None:
        self.handlers: dict[str, list[Handler]] = handlers or {}
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, event_type: str, handler: Handler) -> None:
        self.handlers.setdefault(event_type, []).append(handler)

    async def publish(self, events: list[DomainEvent]) -> None:
        for event in events:
            for handler in self.handlers.get(event.type, []):
                task = asyncio.create_task(self._run(handler, event))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _run(self, handler: Handler, event: DomainEvent) -> None:
        try:
            await handler(event)
        except Exception:
            logger.exception("event_handler_failed", event_type=event.type, event_id=str(event.id))

    async def drain(self) -> None:
        """Wait for the handlers in flight (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

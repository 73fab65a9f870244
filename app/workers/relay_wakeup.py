"""The outbox relay, woken when events commit (issue 17, item 4).

A statement trigger on the outbox sends NOTIFY fxp_outbox (migration 0070), which
PostgreSQL delivers when the inserting transaction commits. The leading scheduler
LISTENs on its leader-lock connection (app/adapters/db/leader_lock.py) and runs the relay
round right here, at once: committed events reach the broker in milliseconds instead of
at the next periodic tick and its queue hop. Notifications arriving while a round runs
fold into one more round (natural batching under load), and a round starts at most every
`min_interval_s` (FXP_WORKERS__RELAY_ON_COMMIT_MIN_INTERVAL_MS): an idle relay runs at
once, a busy one folds the commits of the interval into one round instead of spending a
round (transaction, broker batch) on each. The periodic `relay_outbox` tick
stays as the fallback: the relay claims rows FOR UPDATE SKIP LOCKED, so both may run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import structlog
from dramatiq import Broker

from app.bootstrap import build_container
from app.workers.actors.periodic import relay_outbox
from config.settings import Settings

OUTBOX_CHANNEL = "fxp_outbox"
logger = structlog.get_logger("fusionxpay.outbox")


NOT_READY_RECHECK_S = 0.5
# Once the pool consumed, the readiness check (a look at the heartbeat files) is trusted
# this long: not repeated for every round under load. A pool that stops meanwhile only
# means events wait in Redis (persisted, redelivered) until it is back, as they would
# after being relayed a moment before it stopped.
READY_TRUSTED_S = 1.0


class RelayOnCommit:
    def __init__(self, relay: Callable[[], Awaitable[Any]], ready: Callable[[], bool] | None = None,
                 min_interval_s: float = 0.0) -> None:
        self._relay = relay  # one relay round: publish committed events, wake due webhooks
        # Whether anything consumes what the relay would send (the local worker pool is up):
        # until then the events stay in PostgreSQL. Relaying them into the broker early
        # only exposes them (a Redis without persistence restarting loses them), and with
        # nobody to run them it gains nothing.
        self._ready = ready
        self._ready_until = 0.0  # monotonic time until which the last "ready" is trusted
        self._min_interval_s = min_interval_s
        self._last_round = float("-inf")  # monotonic start of the last round
        self._wake = asyncio.Event()
        self.rounds = 0
        self.deferred = 0  # wake-ups held back while nothing consumed (tests, logs)

    def _consuming(self) -> bool:
        if self._ready is None or time.monotonic() < self._ready_until:
            return True
        if not self._ready():
            return False
        self._ready_until = time.monotonic() + READY_TRUSTED_S
        return True

    def notified(self, *_: Any) -> None:
        """asyncpg's listener callback (connection, pid, channel, payload); also called on
        taking the lead, to catch up with what committed while nobody listened."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                woken = asyncio.create_task(self._wake.wait())
                await asyncio.wait({woken, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stop.is_set():
                    woken.cancel()
                    break
                # Commits arriving while this waits are relayed by the coming round: the event
                # is cleared only after the wait, so none of them is left for a round of its own.
                wait_s = self._last_round + self._min_interval_s - time.monotonic()
                if wait_s > 0:
                    await _sleep(stop, wait_s)
                self._wake.clear()
                if not self._consuming():
                    self._wake.set()  # still owed: relay once the pool is up (or the tick does)
                    self.deferred += 1
                    await _sleep(stop, NOT_READY_RECHECK_S)
                    continue
                self._last_round = time.monotonic()
                try:
                    await self._relay()
                except Exception as exc:  # database or broker down: the periodic relay is the fallback
                    logger.warning("relay_on_commit_failed", error=f"{type(exc).__name__}: {exc}")
                    await asyncio.sleep(0.5)
                self.rounds += 1
        finally:
            stopping.cancel()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        pass


class LocalRelay:
    """The relay round in the scheduler's own process: a small Container of its own (at
    most two pooled connections), started on first use, sending through `broker`."""

    def __init__(self, settings: Settings, broker: Broker) -> None:
        small = msgspec.structs.replace(settings.database, pool_min=1, pool_max=2)
        self._container = build_container(msgspec.structs.replace(settings, database=small), broker=broker)
        self._started = False

    async def __call__(self) -> None:
        if not self._started:
            await self._container.start()
            self._started = True
        await relay_outbox(self._container, on_commit=True)

    async def aclose(self) -> None:
        if self._started:
            await self._container.stop()

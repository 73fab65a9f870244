"""The periodic scheduler: sends ticks to the periodic actors (outbox relay, payment
reconciliation, idempotency-key purge) at intervals from settings. It only sends; the
work runs in the workers, under their time limits and logging. Any number may run (one
per worker host, so none is a single point of failure): only the leader sends, the one
holding the deployment's PostgreSQL advisory lock (app/adapters/db/leader_lock.py). The
others stand by and ask for the lock every `standby_retry_s`; the leader confirms it
still holds the lock before each round of ticks (fencing), so a leader that lost its
connection stops sending instead of ticking next to its successor."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol

import structlog

from app.adapters.queue.publisher import DramatiqPublisher
from config.settings import WorkerSettings

TICK_TTL_OPTION = "tick_ttl_ms"  # read by the periodic actors: a tick older than this is skipped
logger = structlog.get_logger("fusionxpay.scheduler")


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    actor: str
    interval_s: float

    @property
    def tick_ttl_ms(self) -> int:
        # A tick still queued after a few intervals is stale: a newer one is behind it.
        return max(1000, round(self.interval_s * 3000))


def periodic_jobs(workers: WorkerSettings, local_pool: bool = True) -> list[PeriodicJob]:
    """`local_pool`: this process runs a worker pool (a scheduler alone does not relay on commit)."""
    # Woken by commits, the relay's tick is only the fallback (and the webhook retries' clock).
    on_commit = workers.relay_on_commit and workers.leader_election and local_pool
    return [
        PeriodicJob("relay_outbox", workers.relay_fallback_interval_s if on_commit else workers.relay_interval_s),
        PeriodicJob("reconcile_payments", workers.reconcile_interval_s),
        PeriodicJob("purge_idempotency_keys", workers.purge_interval_s),
    ]


class Leadership(Protocol):
    async def is_leader(self) -> bool:
        """Whether this process may send ticks now (confirmed with the lock's holder)."""


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
    except TimeoutError:
        pass


class PeriodicScheduler:
    def __init__(self, publisher: DramatiqPublisher, jobs: list[PeriodicJob], leader: Leadership | None = None,
                 standby_retry_s: float = 1.0) -> None:
        self._publisher = publisher
        self._jobs = jobs
        self._leader = leader  # None: this process always sends (tests, a single scheduler)
        self._standby_retry_s = standby_retry_s

    def _send(self, job: PeriodicJob) -> None:
        self._publisher.publish(job.actor, {}, options={TICK_TTL_OPTION: job.tick_ttl_ms})

    async def run(self, stop: asyncio.Event) -> None:
        due = {job.actor: 0.0 for job in self._jobs}
        while not stop.is_set():
            if self._leader is not None and not await self._leader.is_leader():
                due = dict.fromkeys(due, 0.0)  # on taking over, tick at once
                await _sleep(stop, self._standby_retry_s)
                continue
            now = time.monotonic()
            for job in self._jobs:
                if now >= due[job.actor]:
                    due[job.actor] = now + job.interval_s
                    try:
                        await asyncio.to_thread(self._send, job)
                    except Exception as exc:  # broker down: log, the next tick tries again
                        logger.warning("tick_not_sent", actor=job.actor, error=f"{type(exc).__name__}: {exc}")
            await _sleep(stop, min(due.values()) - time.monotonic())

"""The periodic actors, sent as ticks by the scheduler in the worker main process. A tick
that waited longer than its time to live is skipped (the next one is on its way), and a
failing tick is logged, not retried or dead-lettered: the next tick is the retry.
Reconciliation and the purge run one at a time across all workers (a Redis lock): a
slow round must not be joined by the next tick's round working on the same attempts."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from dramatiq.common import current_millis
from dramatiq.middleware import CurrentMessage

from app.adapters.notify.notification_jobs import PiccoloNotificationJobs
from app.adapters.redis.locks import RedisLockManager
from app.bootstrap import Container
from app.domain.routing import NOTIFY_CUSTOMER, NOTIFY_MERCHANT
from app.domain.errors import Conflict
from app.workers.scheduler import TICK_TTL_OPTION

logger = structlog.get_logger("fusionxpay.workers")


async def _tick(job: Callable[[], Awaitable[Any]]) -> Any:
    message = CurrentMessage.get_current_message()
    ttl_ms = message.options.get(TICK_TTL_OPTION) if message else None
    if message and ttl_ms and current_millis() - message.message_timestamp > ttl_ms:
        return None
    try:
        return await job()
    except Exception:
        logger.exception("periodic_job_failed")
        return None


async def _single_flight(container: Container, name: str, interval_s: float,
                         job: Callable[[Container], Awaitable[Any]]) -> Any:
    # The lease frees the lock if its holder is killed: a few intervals, within reason.
    lease_s = min(max(3 * interval_s, 5.0), 300.0)
    locks = RedisLockManager(container.redis, lease_s=lease_s)
    running = False
    try:
        async with locks.hold(f"fxp:periodic:{name}", timeout_s=0):
            running = True
            return await job(container)
    except Conflict:
        if running:
            raise
        return None  # another worker is on it


async def relay_outbox(container: Container, *, on_commit: bool = False) -> None:
    """Publish committed outbox events to their consumers, then wake the webhook and
    shopper notification deliveries that are due (retries on their schedule, wake-ups
    presumed lost). `on_commit` (the relay woken by a commit, app/workers/relay_wakeup.py):
    wake a kind of delivery when this round made new ones of it due, when its last wake-up
    round failed, or at most every WAKE_ON_COMMIT_S otherwise (retries, expired leases); the
    periodic tick wakes both every time. So under load a round costs one transaction, and a
    payment's webhook one more, not two more (the shopper notifications' poller stays idle)."""
    relay = container.relay
    await _tick(relay.drain)
    due = relay.take_jobs_due_by_consumer()
    batch = container.settings.workers.relay_batch_size
    await _wake(relay, NOTIFY_MERCHANT, on_commit, due,
                lambda: container.webhook_schedule.wake_due(container.publisher, batch))
    jobs = container.notification_jobs
    if isinstance(jobs, PiccoloNotificationJobs):  # (a stand-in job store has nothing to wake)
        await _wake(relay, NOTIFY_CUSTOMER, on_commit, due, lambda: jobs.wake_due(container.publisher, batch))


async def _wake(relay: object, kind: str, on_commit: bool, due: dict[str, int],
                wake_due: Callable[[], Awaitable[int]]) -> None:
    key, now = (id(relay), kind), time.monotonic()
    if on_commit and not due.get(kind) and now - _woken_at.get(key, 0.0) < WAKE_ON_COMMIT_S:
        return
    _woken_at[key] = now
    if await _tick(wake_due) is None:  # failed (logged): the next round tries again
        _woken_at.pop(key, None)


WAKE_ON_COMMIT_S = 0.25
_woken_at: dict[tuple[int, str], float] = {}  # (relay, kind) -> when a commit round last woke them


async def _reconcile(container: Container) -> None:
    counts = await container.payments.reconcile()
    refunds = await container.refunds.retry_due()
    released = await container.fulfillment.release_expired()
    reviews = await container.reviews.reject_overdue()
    if any(counts.values()) or refunds or released or reviews:
        logger.info("reconciled", **counts, refunds_retried=refunds, reservations_released=released,
                    reviews_rejected=reviews)


async def reconcile_payments(container: Container) -> None:
    """Settle attempts stuck INITIATED or PENDING, ask again for refunds whose retry is due,
    give back stock reservations past their expiry, reject fraud reviews left open too long."""
    interval_s = container.settings.workers.reconcile_interval_s
    await _tick(lambda: _single_flight(container, "reconcile_payments", interval_s, _reconcile))


async def _purge(container: Container) -> None:
    purged = await container.idempotency.purge_expired()
    logger.info("idempotency_keys_purged", purged=purged)


async def purge_idempotency_keys(container: Container) -> None:
    """Drop idempotency keys past their time to live."""
    interval_s = container.settings.workers.purge_interval_s
    await _tick(lambda: _single_flight(container, "purge_idempotency_keys", interval_s, _purge))

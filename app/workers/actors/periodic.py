"""The periodic actors, sent as ticks by the scheduler in the worker main process. A tick
that waited longer than its time to live is skipped (the next one is on its way), and a
failing tick is logged, not retried or dead-lettered: the next tick is the retry.
Reconciliation and the purge run one at a time across all workers (a Redis lock): a
slow round must not be joined by the next tick's round working on the same attempts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from dramatiq.common import current_millis
from dramatiq.middleware import CurrentMessage

from app.adapters.notify.notification_jobs import PiccoloNotificationJobs
from app.adapters.redis.locks import RedisLockManager
from app.bootstrap import Container
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
    wake deliveries only when this round made new ones due; the periodic tick wakes the
    rest (retries, lost wake-ups), so a round for events nobody gets webhooks or
    notifications of costs one transaction, not three."""
    await _tick(container.relay.drain)
    if not container.relay.take_jobs_due() and on_commit:
        return
    await _tick(lambda: container.webhook_schedule.wake_due(container.publisher,
                                                            container.settings.workers.relay_batch_size))
    jobs = container.notification_jobs
    if isinstance(jobs, PiccoloNotificationJobs):  # (a stand-in job store has nothing to wake)
        await _tick(lambda: jobs.wake_due(container.publisher, container.settings.workers.relay_batch_size))


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

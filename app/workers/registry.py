"""Our actors, their queues and options, declared on a given broker. A function rather
than import-time decorators, so the worker and tests each bind the same actors to the
broker they use; each actor body gets the process's Container as its first argument."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import dramatiq
import structlog
from dramatiq import Broker

from app.adapters.outages import outage_of
from app.adapters.queue.broker import ACTOR_QUEUES
from app.workers.actors.fulfillment import allocate_stock
from app.workers.actors.notifications import NotificationDead, notify_customer, send_notification
from app.workers.actors.payments import dispatch_payment, dispatch_refund
from app.workers.actors.periodic import purge_idempotency_keys, reconcile_payments, relay_outbox
from app.workers.actors.webhooks import WebhookGaveUp, notify_merchant
from app.workers.middleware import ContainerBoot
from config.settings import WorkerSettings

ActorBody = Callable[..., Awaitable[Any]]  # async (container, **message kwargs)
logger = structlog.get_logger("fusionxpay.workers")


def retry_while_outage(max_retries: int) -> Callable[[int, BaseException], bool]:
    """Dramatiq's retry_when: while a failure is an outage (PostgreSQL, Redis or the broker
    down, app/adapters/outages.py) the message is retried, its age limit bounding how
    long; any other failure up to `max_retries` times, then the dead letters. A restart
    of the database is not a reason to dead-letter a payment."""

    def retry_when(retries: int, exception: BaseException) -> bool:
        return outage_of(exception) is not None or retries < max_retries

    return retry_when


def actor_table(workers: WorkerSettings) -> list[tuple[ActorBody, dict[str, Any]]]:
    periodic = {"max_retries": 0}  # the next tick is the retry (PERIODIC, below)
    # Bounded exponential backoff (Retries middleware settings), then the dead-letter queue.
    retried = {"retry_when": retry_while_outage(workers.max_retries)}
    return [
        (dispatch_payment, retried),
        (dispatch_refund, retried),
        (allocate_stock, retried),
        # Delivery failures follow the webhook schedule (jobs in PostgreSQL); an exhausted
        # schedule raises WebhookGaveUp, straight to the dead letters.
        (notify_merchant, {**retried, "throws": (WebhookGaveUp,)}),
        # Shopper email/SMS: the same, with the notification schedule (NotificationDead).
        (notify_customer, {**retried, "throws": (NotificationDead,)}),
        (send_notification, {**retried, "throws": (NotificationDead,)}),
        (relay_outbox, periodic),
        (reconcile_payments, periodic),
        (purge_idempotency_keys, periodic),
    ]


PERIODIC = frozenset({relay_outbox, reconcile_payments, purge_idempotency_keys})


def _bound(body: ActorBody, boot: ContainerBoot) -> ActorBody:
    async def actor(*args: Any, **kwargs: Any) -> Any:
        try:
            container = await boot.container()
        except Exception as exc:
            if body not in PERIODIC:
                raise  # retried (while an outage lasts), then dead-lettered
            # A tick whose worker cannot boot (the database restarting) is dropped, not
            # dead-lettered: the next tick is its retry.
            logger.warning("tick_skipped", actor=body.__name__, error=f"{type(exc).__name__}: {exc}"[:300])
            return None
        return await body(container, *args, **kwargs)

    actor.__name__, actor.__qualname__, actor.__doc__ = body.__name__, body.__qualname__, body.__doc__
    return actor


def declare_actors(broker: Broker, workers: WorkerSettings, boot: ContainerBoot) -> dict[str, dramatiq.Actor[Any, Any]]:
    return {
        body.__name__: dramatiq.actor(broker=broker, actor_name=body.__name__,
                                      queue_name=ACTOR_QUEUES[body.__name__], **options)(_bound(body, boot))
        for body, options in actor_table(workers)
    }

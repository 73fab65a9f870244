"""Our actors, their queues and options, declared on a given broker. A function rather
than import-time decorators, so the worker, the scheduler, the API (replays, resends) and
tests each bind the same actors to the broker they use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq import Broker

from app.workers.actors.payments import dispatch_payment, dispatch_refund
from app.workers.actors.periodic import purge_idempotency_keys, reconcile_payments, relay_outbox
from app.workers.actors.webhooks import WebhookGaveUp, notify_merchant
from config.settings import WorkerSettings

# Separate queues so a slow kind of work never sits in front of another kind.
PAYMENTS, WEBHOOKS, OUTBOX, MAINTENANCE = "payments", "webhooks", "outbox", "maintenance"
QUEUES = (PAYMENTS, WEBHOOKS, OUTBOX, MAINTENANCE)


def actor_table(workers: WorkerSettings) -> list[tuple[Callable[..., Any], str, dict[str, Any]]]:
    longest_webhook_delay_ms = int(max(workers.webhook_retry_delays_s, default=0) * 1000)
    periodic = {"max_retries": 0}  # the next tick is the retry
    return [
        # Bounded exponential backoff (Retries middleware defaults), then the dead-letter queue.
        (dispatch_payment, PAYMENTS, {}),
        (dispatch_refund, PAYMENTS, {}),
        # Delivery failures follow the webhook schedule; a delayed attempt must not
        # outlive the age limit while it waits.
        (notify_merchant, WEBHOOKS, {"throws": (WebhookGaveUp,),
                                     "max_age": workers.max_age_ms + longest_webhook_delay_ms}),
        (relay_outbox, OUTBOX, periodic),
        (reconcile_payments, MAINTENANCE, periodic),
        (purge_idempotency_keys, MAINTENANCE, periodic),
    ]


def declare_actors(broker: Broker, workers: WorkerSettings) -> dict[str, dramatiq.Actor]:
    return {
        fn.__name__: dramatiq.actor(fn, broker=broker, actor_name=fn.__name__, queue_name=queue, **options)
        for fn, queue, options in actor_table(workers)
    }

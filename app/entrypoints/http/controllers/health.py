"""Liveness and readiness. Readiness names each dependency and whether it is up, so an
operator (or a load balancer's log) sees which one is down; it answers 503 while any
required one is. The broker is reported but not required: the API writes to the outbox,
never to the broker, so a broker outage only delays work."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import msgspec
from litestar import Request, Response, get
from litestar.openapi import ResponseSpec

from app.adapters.outages import RETRY_AFTER_S
from app.adapters.queue.broker_probe import rabbitmq_answers
from app.entrypoints.http.access import PUBLIC

PROBE_TIMEOUT_S = 2.0


class Health(msgspec.Struct):
    status: str


class DependencyCheck(msgspec.Struct):
    status: str  # "ok" or "down"
    required: bool
    latency_ms: float
    error: str | None = None


class Readiness(msgspec.Struct):
    status: str  # "ok", "degraded" (an optional dependency is down) or "unavailable"
    checks: dict[str, DependencyCheck]
    down: list[str]


@get("/health", tags=["operations"], **PUBLIC.route(), summary="Liveness: the process answers")
async def health() -> Health:
    return Health("ok")


async def _probe(check: Callable[[], Awaitable[object]], required: bool) -> DependencyCheck:
    started = time.perf_counter()
    try:
        answer = await asyncio.wait_for(check(), PROBE_TIMEOUT_S)
        error = None if answer is True else f"unexpected answer {answer!r}"
    except Exception as exc:  # whatever the driver raises, the dependency is not usable
        error = type(exc).__name__  # the name only: driver messages carry hosts and paths
    latency_ms = round((time.perf_counter() - started) * 1000, 1)
    return DependencyCheck("ok" if error is None else "down", required, latency_ms, error)


def _checks(container: object) -> dict[str, tuple[Callable[[], Awaitable[object]], bool]]:
    settings = container.settings  # type: ignore[attr-defined]
    checks: dict[str, tuple[Callable[[], Awaitable[object]], bool]] = {
        "database": (container.check_database, True),  # type: ignore[attr-defined]
        # A new version must not serve before the migration Job has brought the schema to it.
        "schema": (container.check_schema, True),  # type: ignore[attr-defined]
        "redis": (container.check_redis, True),  # type: ignore[attr-defined]
    }
    if settings.workers.broker.lower() == "rabbitmq":
        checks["broker"] = (lambda: rabbitmq_answers(settings.workers.rabbitmq_url, PROBE_TIMEOUT_S), False)
    return checks


@get("/ready", tags=["operations"], **PUBLIC.route(), summary="Readiness: each dependency's status",
     responses={503: ResponseSpec(Readiness, description="a required dependency is down")})
async def ready(request: Request) -> Response[Readiness]:
    checks = _checks(request.app.state.container)
    results = await asyncio.gather(*(_probe(check, required) for check, required in checks.values()))
    by_name = dict(zip(checks, results))
    down = [name for name, result in by_name.items() if result.status != "ok"]
    unavailable = any(by_name[name].required for name in down)
    status = "unavailable" if unavailable else "degraded" if down else "ok"
    headers = {"Retry-After": str(RETRY_AFTER_S)} if unavailable else None
    return Response(Readiness(status, by_name, down), status_code=503 if unavailable else 200, headers=headers)

"""Liveness and readiness."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Request, Response, get
from litestar.openapi import ResponseSpec

from app.entrypoints.http.access import PUBLIC


class Health(msgspec.Struct):
    status: str
    checks: dict[str, str] = {}


@get("/health", tags=["operations"], **PUBLIC.route(), summary="Liveness: the process answers")
async def health() -> Health:
    return Health("ok")


@get("/ready", tags=["operations"], **PUBLIC.route(), summary="Readiness: PostgreSQL and Redis answer",
     responses={503: ResponseSpec(Health, description="a dependency is down")})
async def ready(request: Request) -> Response[Health]:
    container = request.app.state.container
    checks = await asyncio.gather(container.check_database(), container.check_redis(), return_exceptions=True)
    results = {name: "ok" if ok is True else f"error: {type(ok).__name__ if isinstance(ok, BaseException) else ok}"
               for name, ok in zip(("database", "redis"), checks)}
    healthy = all(value == "ok" for value in results.values())
    return Response(Health("ok" if healthy else "unavailable", results), status_code=200 if healthy else 503)

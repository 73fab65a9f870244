"""Who is acting and under which correlation id, as the drivers bound them in structlog's
context: HTTP binds the authenticated principal and the request id, a worker the
message's correlation id (and no principal: the system acts)."""

from __future__ import annotations

import structlog

from config.log_context import context_value
from app.domain.model.audit import SYSTEM, Actor, ActorKind

PRINCIPAL = "principal"  # structlog context key: "<kind>:<id>", e.g. "merchant:<uuid>"


def bind_actor(actor: Actor) -> None:
    structlog.contextvars.bind_contextvars(**{PRINCIPAL: str(actor)})


def current() -> tuple[Actor, str | None]:
    """The acting party and the correlation id of the current request or message."""
    return parse_actor(context_value(PRINCIPAL)), context_value("correlation_id")


def parse_actor(value: str | None) -> Actor:
    if not value:
        return SYSTEM
    kind, _, actor_id = value.partition(":")
    try:
        return Actor(ActorKind(kind), actor_id or None)
    except ValueError:
        return SYSTEM

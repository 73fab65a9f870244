"""GET /admin/audit: the audit trail, newest first, filtered and cursor-paginated. Bad
filters are 400 problems naming the parameter (code invalid_filter; a cursor this API did
not issue is invalid_cursor, 422, as on every list)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, TypeVar

import msgspec
from litestar import Controller, get
from litestar.params import Dependency, Parameter

from app.domain.errors import MalformedRequest
from app.domain.model.audit import ActorKind, AuditRecord, AuditStatus, AuditType
from app.domain.ports_audit import AuditQuery, AuditTrail
from app.entrypoints.http.access import authorize
from app.entrypoints.http.controllers.admin import ADMIN_ERRORS, ADMIN_ONLY
from app.entrypoints.http.dependencies import from_container
from app.entrypoints.http.pagination import TIMESTAMP, decode_cursor, encode_cursor, parse_timestamp

E = TypeVar("E", bound=StrEnum)
ENTITY_KIND = "abcdefghijklmnopqrstuvwxyz_"


class AuditEntry(msgspec.Struct):
    id: uuid.UUID
    type: AuditType
    status: AuditStatus
    occurred_at: datetime
    actor_kind: ActorKind
    actor_id: str | None
    correlation_id: str | None
    action: str | None
    entities: dict[str, str]
    duration_ms: float
    error_code: str | None
    error_detail: str | None

    @classmethod
    def from_domain(cls, r: AuditRecord) -> AuditEntry:
        return cls(r.id, r.type, r.status, r.occurred_at, r.actor.kind, r.actor.id, r.correlation_id, r.action,
                   r.entities, r.duration_ms, r.error_code, r.error_detail)


class AuditPage(msgspec.Struct):
    data: list[AuditEntry]
    has_more: bool
    next_cursor: str | None


def _choice(enum: type[E], value: str | None, field: str) -> E | None:
    if value is None:
        return None
    try:
        return enum(value.lower())
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise MalformedRequest(f"{field} must be one of: {allowed}", field=field, code="invalid_filter") from None


def _pair(value: str | None, field: str, example: str) -> tuple[str, str | None] | None:
    if value is None:
        return None
    kind, sep, ident = value.partition(":")
    if not kind or (sep and not ident) or any(c not in ENTITY_KIND for c in kind.lower()):
        raise MalformedRequest(f"{field} must look like {example}", field=field, code="invalid_filter")
    return kind.lower(), ident or None


Audit = Annotated[AuditTrail, Dependency(skip_validation=True)]
TEXT = Parameter(max_length=200)


class AdminAuditController(Controller):
    path = "/admin/audit"
    tags = ["admin"]
    guards = [authorize]
    dependencies = {"audit": from_container("audit")}

    @get("/", responses=ADMIN_ERRORS, **ADMIN_ONLY,
         summary="The audit trail, newest first: filter by type, status, actor, entity and time")
    async def search(
        self, audit: Audit,
        type: Annotated[str | None, Parameter(max_length=40, description="e.g. order_creation, data_lookup")] = None,
        status: Annotated[str | None, Parameter(max_length=20, description="success or failed")] = None,
        actor: Annotated[str | None, Parameter(max_length=200, description="kind or kind:id, e.g. merchant:<uuid>")] = None,
        entity: Annotated[str | None, Parameter(max_length=200, description="kind:id, e.g. order:<uuid>")] = None,
        since: Annotated[str | None, TIMESTAMP] = None,
        until: Annotated[str | None, TIMESTAMP] = None,
        cursor: Annotated[str | None, TEXT] = None,
        limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    ) -> AuditPage:
        actor_pair = _pair(actor, "actor", "merchant or merchant:<id>")
        entity_pair = _pair(entity, "entity", "order:<id>")
        if entity_pair is not None and entity_pair[1] is None:
            raise MalformedRequest("entity must look like order:<id>", field="entity", code="invalid_filter")
        query = AuditQuery(
            type=_choice(AuditType, type, "type"), status=_choice(AuditStatus, status, "status"),
            actor_kind=_choice(ActorKind, actor_pair[0], "actor") if actor_pair else None,
            actor_id=actor_pair[1] if actor_pair else None,
            entity=(entity_pair[0], entity_pair[1] or "") if entity_pair else None,
            since=parse_timestamp(since, "since"), until=parse_timestamp(until, "until"),
            cursor=decode_cursor(cursor) if cursor else None, limit=limit)
        found = await audit.search(query)
        page, has_more = found[:limit], len(found) > limit
        return AuditPage([AuditEntry.from_domain(r) for r in page], has_more,
                         encode_cursor(page[-1].occurred_at, page[-1].id) if has_more and page else None)

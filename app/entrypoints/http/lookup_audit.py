"""`data_lookup` audit records for operators' reads: every GET of the admin API and of the
dashboard that shows entity data (searches, order timelines, CSV exports, lists of
merchants, refunds, dead letters, deliveries, the audit log itself) is one record, with
the operator, the request id, the path's ids, the search filters' names (never their
values: an email searched for is personal data) and the ids among them, how long it took
(a CSV export: until its last row) and, for a refused read, the HTTP status.

Aggregates (the overview) and the dashboard's login and static assets are not recorded.
Records are queued (PiccoloAuditTrail.append): the read pays a list append, and the
background writer inserts them in batches."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.adapters.audit import context as audit_context
from app.domain.model.audit import ActorKind, AuditEntry, AuditType, finish

PREFIXES = ("/admin", "/dashboard")
NOT_RECORDED = frozenset({"/admin/overview", "/dashboard", "/dashboard/", "/dashboard/login"})
ID_FILTERS = ("id", "merchant_id", "order_id", "payment_id", "event_id")


def lookup_audit_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        template = scope.get("path_template") or ""
        if (scope["type"] != "http" or scope.get("method") != "GET" or not template.startswith(PREFIXES)
                or template in NOT_RECORDED or template.startswith("/dashboard/static")):
            await app(scope, receive, send)
            return
        entry = AuditEntry(AuditType.DATA_LOOKUP, {}, action=_action(scope))
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, sending)
        finally:
            _record(scope, entry, status)

    return middleware


def _action(scope: Scope) -> str:
    handler = scope.get("route_handler")
    name = getattr(handler, "handler_name", None) or "read"
    return f"dashboard_{name}" if (scope.get("path_template") or "").startswith("/dashboard") else name


def _record(scope: Scope, entry: AuditEntry, status: int) -> None:
    container = scope["app"].state.container
    actor, correlation_id = audit_context.current()
    if actor.kind is not ActorKind.ADMIN or not container.settings.audit.enabled:
        return  # refused before anyone was known (401), or a non-operator (recorded elsewhere)
    entry.add(**{name.removesuffix("_id"): _text(value) for name, value in scope.get("path_params", {}).items()})
    query = _query(scope)
    entry.add(**{name.removesuffix("_id"): query[name] for name in ID_FILTERS if name in query})
    filters = sorted(name for name in query if name not in ID_FILTERS and name not in ("cursor", "limit"))
    if filters:
        entry.add(filters=",".join(filters))
    if status >= 400:
        entry.fail(f"http_{status}")
    container.audit.append([finish(entry, datetime.now(UTC), actor, correlation_id)])


def _text(value: Any) -> str:
    return str(value) if isinstance(value, (uuid.UUID, str, int)) else type(value).__name__


def _query(scope: Scope) -> dict[str, str]:
    from urllib.parse import parse_qsl

    raw = scope.get("query_string", b"").decode("latin-1")
    return {name[:64]: value[:200] for name, value in parse_qsl(raw) if value}

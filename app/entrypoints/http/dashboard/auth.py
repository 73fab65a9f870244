"""Who may see the dashboard, and CSRF protection for its forms.

An operator logs in with an admin user's email and password (or the bootstrap admin key)
and gets a server-side session (RedisDashboardSessions) named by a cookie that is HttpOnly,
SameSite=Strict, scoped to /dashboard and Secure when the API serves TLS (or the request
came over HTTPS). Every form carries the session's CSRF token (synchronizer token); the
login form, before any session exists, carries a token that must match its own cookie
(double submit). A missing or wrong token is refused (403), whatever else the form says.

Merchant users are refused: the dashboard is the operator's console (every merchant's
orders, the review queue, the dead letters); merchants read their own data through the
merchant API (GET /orders, /payments, /cards), scoped by their key or staff login."""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from litestar import Request
from litestar.datastructures import Cookie

from app.adapters.audit import context as audit_context
from app.adapters.redis.dashboard_sessions import IDLE_TTL_S, DashboardSession
from app.domain.model.audit import Actor, ActorKind, AuditEntry, AuditType, finish

SESSION_COOKIE = "fxp_dash"
LOGIN_COOKIE = "fxp_dash_login"
PATH = "/dashboard"


class LoginRequired(Exception):
    """No valid session: the page redirects to the login form."""


class CsrfFailed(Exception):
    """A form without this session's CSRF token."""


def secure(request: Request[Any, Any, Any]) -> bool:
    return bool(request.app.state.container.settings.api.tls) or request.url.scheme == "https"


def cookie(request: Request[Any, Any, Any], name: str, value: str, max_age: int | None = IDLE_TTL_S) -> Cookie:
    return Cookie(key=name, value=value, path=PATH, httponly=True, samesite="strict", secure=secure(request),
                  max_age=max_age)


def expired(request: Request[Any, Any, Any], name: str) -> Cookie:
    return cookie(request, name, "", max_age=0)


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def same(given: object, expected: str | None) -> bool:
    return isinstance(given, str) and bool(expected) and hmac.compare_digest(given.encode(), str(expected).encode())


async def operator(request: Request[Any, Any, Any]) -> tuple[str, DashboardSession]:
    """The session id and session of the logged-in operator; LoginRequired otherwise."""
    container = request.app.state.container
    session_id = request.cookies.get(SESSION_COOKIE, "")
    session = await container.dashboard_sessions.get(session_id)
    if session is None:
        raise LoginRequired()
    if session.family_id and await container.sessions.is_revoked(uuid.UUID(session.family_id)):
        await container.dashboard_sessions.end(session_id)  # logged out elsewhere, or password changed
        raise LoginRequired()
    # The audit trail's actor for what this page does: the admin user, or the bootstrap key.
    audit_context.bind_actor(Actor(ActorKind.ADMIN, session.user_id or "admin_key"))
    return session_id, session


def record_key_login(request: Request[Any, Any, Any], accepted: bool) -> None:
    """A dashboard login with the bootstrap admin key, in the audit trail (`user_login` by
    `admin:admin_key`; a wrong key is a failed one). Queued: a session lives in Redis, no
    PostgreSQL change to share a transaction with."""
    container = request.app.state.container
    if not container.settings.audit.enabled:
        return
    entry = AuditEntry(AuditType.USER_LOGIN, {}, Actor(ActorKind.ADMIN, "admin_key"), action="dashboard_key")
    if not accepted:
        entry.fail("invalid_credentials", "wrong admin key")
    _, correlation_id = audit_context.current()
    container.audit.append([finish(entry, datetime.now(UTC), entry.actor or Actor(ActorKind.ADMIN), correlation_id)])


async def checked_form(request: Request[Any, Any, Any], session: DashboardSession) -> dict[str, str]:
    """The posted form, once its CSRF token (field `_csrf`, or header X-CSRF-Token) is the session's."""
    form = await request.form()
    token = form.get("_csrf") or request.headers.get("x-csrf-token")
    if not same(token, session.csrf):
        raise CsrfFailed()
    return {key: value for key, value in form.items() if isinstance(value, str)}

"""Who is calling: `Authorization: Bearer <credential>`, one of
- a merchant secret key (`sk_…`): the merchant itself;
- a user's access JWT: a customer, a merchant's staff, or an admin;
- the static admin key (FXP_ADMIN_API_KEY): an admin, to bootstrap the first admin user.

Resolved merchant keys are cached in-process for a short time so the hot path does not
pay a database round trip per request. Revocation still takes effect at once in every
process: each key-authenticated request reads the keys' version in Redis (a GET sent
after it arrived, shared with the requests that arrived with it) and drops the cache
when a deactivation or rotation changed it; a rotated key is never cached
past the end of its grace period. While that version cannot be read (Redis down or
loading), nothing is cached: each request asks PostgreSQL. A JWT costs no database query: its signature, then one
Redis lookup of revoked sessions."""

from __future__ import annotations

import hmac
import time
import uuid
from datetime import UTC, datetime

import structlog
from litestar import Request

from app.adapters.audit import context as audit_context
from app.adapters.auth.jwt_tokens import JwtAccessTokens
from app.domain.errors import Forbidden, Unauthenticated
from app.domain.model.audit import Actor, ActorKind
from app.domain.model.principal import Credential, Principal
from app.domain.model.user import Role
from app.domain.ports import KeyRevocations
from app.domain.services.merchants import KEY_PREFIX, AuthenticatedKey, MerchantService
from app.domain.services.sessions import SessionService

CACHE_TTL_S = 60.0
CACHE_MAX_ENTRIES = 10_000


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("missing Authorization header (expected 'Bearer <API key or access token>')")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <API key or access token>'")
    return token.strip()


class Authenticator:
    def __init__(self, merchants: MerchantService, tokens: JwtAccessTokens, sessions: SessionService,
                 admin_api_key: str, revocations: KeyRevocations) -> None:
        self._merchants, self._tokens, self._sessions = merchants, tokens, sessions
        self._admin_key = admin_api_key.encode()
        self._revocations = revocations
        self._cache: dict[str, tuple[float, Principal]] = {}
        self._cache_version: str | None = None  # the keys' version the cache was filled under
        self._contexts: dict[Principal, dict[str, str]] = {}  # _log_context's

    async def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        if token.startswith(KEY_PREFIX):
            principal = await self._merchant(token)
        elif self._admin_key and hmac.compare_digest(token.encode(), self._admin_key):
            principal = Principal(Role.ADMIN, Credential.ADMIN_KEY)
        else:
            principal = self._tokens.principal(token)
            if principal.session_id is None or await self._sessions.is_revoked(principal.session_id):
                raise Unauthenticated("this session has ended (logged out or revoked)", code="session_revoked")
        structlog.contextvars.bind_contextvars(**self._log_context(principal))
        return principal

    def _log_context(self, principal: Principal) -> dict[str, str]:
        """What the request's log lines and audit records say of the caller: its merchant
        (if any) and its actor (audit_context.PRINCIPAL), made once per principal (a merchant
        key's principal is the same on every request)."""
        context = self._contexts.get(principal)
        if context is None:
            context = {audit_context.PRINCIPAL: str(actor_of(principal))}
            if principal.merchant_id is not None:
                context["merchant_id"] = str(principal.merchant_id)
            if len(self._contexts) >= CACHE_MAX_ENTRIES:
                self._contexts.clear()
            self._contexts[principal] = context
        return context

    async def _merchant(self, api_key: str) -> Principal:
        try:
            version: str | None = await self._revocations.version()
        except Exception:  # noqa: BLE001 - Redis down or loading: no cache, ask PostgreSQL
            version = None
        if version is None or version != self._cache_version:  # a key was revoked somewhere: forget them all
            self._cache.clear()
            self._cache_version = version
        if version is None:  # revocations cannot be seen now: nothing is cached meanwhile
            return self._principal(await self._merchants.authenticate(api_key))
        cached = self._cache.get(api_key)
        now = time.monotonic()
        if cached and cached[0] > now:
            return cached[1]
        key = await self._merchants.authenticate(api_key)
        principal = self._principal(key)
        if self._cache_version != version:
            # Another request saw a newer version while this one asked PostgreSQL: what
            # this one read may predate that revocation, so it must not be cached under it.
            return principal
        if len(self._cache) >= CACHE_MAX_ENTRIES:
            self._cache.clear()
        ttl_s = CACHE_TTL_S
        if key.expires_at is not None:  # a rotated key: not one request past its grace period
            ttl_s = min(ttl_s, (key.expires_at - datetime.now(UTC)).total_seconds())
        self._cache[api_key] = (now + ttl_s, principal)
        return principal

    @staticmethod
    def _principal(key: AuthenticatedKey) -> Principal:
        return Principal(Role.MERCHANT, Credential.API_KEY, key.merchant.id)


def actor_of(principal: Principal) -> Actor:
    """Who the audit trail says acted: a merchant's key, a user (customer or staff), an admin."""
    if principal.role is Role.ADMIN:
        return Actor(ActorKind.ADMIN, str(principal.user_id) if principal.user_id else "admin_key")
    if principal.credential is Credential.API_KEY:
        return Actor(ActorKind.MERCHANT, str(principal.merchant_id))
    return Actor(ActorKind.USER, str(principal.user_id))


def merchant_of(principal: Principal) -> uuid.UUID:
    """The merchant whose data a merchant-bound caller (key, staff, customer) works on."""
    if principal.merchant_id is None:  # access rules keep admins off merchant endpoints
        raise Forbidden("this endpoint acts for a merchant", code="role_not_allowed")
    return principal.merchant_id


def provide_principal(request: Request) -> Principal:
    """Litestar dependency: the caller the `authorize` guard admitted."""
    principal = request.scope.get("state", {}).get("principal")
    if not isinstance(principal, Principal):  # a handler without an access rule asked for one
        raise Unauthenticated("this endpoint takes no credentials")
    return principal

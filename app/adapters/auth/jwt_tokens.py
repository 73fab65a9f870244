"""Access tokens: HS256 JWTs through Litestar's own `litestar.security.jwt.Token`.

The algorithm list is pinned to HS256 on decode (so `alg: none` and algorithm swaps are
refused); issuer, audience, expiry and our own claims are required."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from functools import cached_property

import structlog
from litestar.exceptions import ImproperlyConfiguredException, NotAuthorizedException
from litestar.security.jwt import Token

from app.domain.errors import Unauthenticated
from app.domain.model.principal import Credential, Principal
from app.domain.model.user import Role, User
from app.domain.ports_accounts import AccessToken

logger = structlog.get_logger("fusionxpay.auth")
ALGORITHM = "HS256"
ISSUER = "fusionxpay"
AUDIENCE = "fusionxpay-api"
REQUIRED = ("exp", "iat", "sub", "iss", "aud", "extras")  # role, sid (and mid) live in extras


class JwtAccessTokens:
    def __init__(self, secret: str | None, ttl_s: int) -> None:
        """`secret` None (dev, tests): a process-local one, made when first needed, so
        tokens die with the process and only this process accepts them."""
        if secret is not None and len(secret.encode()) < 32:
            raise ValueError("the JWT secret needs at least 32 bytes")
        self._configured, self._ttl = secret, timedelta(seconds=ttl_s)

    @cached_property
    def _secret(self) -> str:
        if self._configured is not None:
            return self._configured
        logger.warning("jwt_secret_generated", detail="no FXP_AUTH__JWT_SECRET; using a process-local secret")
        return secrets.token_urlsafe(48)

    def issue(self, user: User, session_id: uuid.UUID, now: datetime) -> AccessToken:
        expires_at = now + self._ttl
        extras = {"role": str(user.role), "sid": str(session_id)}
        if user.merchant_id is not None:
            extras["mid"] = str(user.merchant_id)
        token = Token(exp=expires_at, sub=str(user.id), iat=now, iss=ISSUER, aud=AUDIENCE,
                      jti=secrets.token_hex(8), extras=extras)
        return AccessToken(token.encode(self._secret, ALGORITHM), expires_at)

    def principal(self, encoded: str) -> Principal:
        """The caller an access token names; Unauthenticated when it is not one of ours,
        is tampered with, expired, or signed with another algorithm."""
        try:
            token = Token.decode(encoded, self._secret, ALGORITHM, audience=AUDIENCE, issuer=ISSUER,
                                 require_claims=REQUIRED)
            role = Role(token.extras["role"])
            merchant = token.extras.get("mid")
            return Principal(role, Credential.JWT, uuid.UUID(merchant) if merchant else None,
                             uuid.UUID(token.sub), uuid.UUID(token.extras["sid"]))
        except (NotAuthorizedException, ImproperlyConfiguredException, KeyError, ValueError):
            raise Unauthenticated("the access token is invalid or expired", code="invalid_token") from None

"""Sessions: access JWT + rotating refresh token, one family per login.

Concurrent refresh of one token: the token's row is locked while it rotates, so the
second request sees it already rotated, which is reuse: the whole family is revoked and
both callers must log in again. Strict on purpose: a thief racing the owner looks the same."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from app.domain.errors import Unauthenticated
from app.domain.model.session import RefreshToken, hash_refresh_token
from app.domain.model.user import User
from app.domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from app.domain.ports_accounts import AccessToken, AccessTokenIssuer, SessionRevocations


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    access_ttl_s: int = 900
    refresh_ttl_s: int = 30 * 86400


@dataclass(frozen=True, slots=True, repr=False)
class Session:
    user: User
    access: AccessToken
    refresh_token: str  # the secret: handed to the client once, only its hash is stored
    refresh_expires_at: datetime
    session_id: uuid.UUID

    def __repr__(self) -> str:
        return f"Session({self.user!r} family={self.session_id})"


class SessionService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, tokens: AccessTokenIssuer,
                 revocations: SessionRevocations, policy: SessionPolicy) -> None:
        self._uow, self._clock, self._tokens = uow, clock, tokens
        self._revocations, self._policy = revocations, policy

    async def start(self, uow: UnitOfWork, user: User, family_id: uuid.UUID | None = None) -> Session:
        """A new refresh token (a new family unless given) in the caller's unit of work."""
        now = self._clock.now()
        token, secret = RefreshToken.issue(user.id, now, self._policy.refresh_ttl_s, family_id)
        await uow.refresh_tokens.add(token)
        return Session(user, self._tokens.issue(user, token.family_id, now), secret, token.expires_at,
                       token.family_id)

    async def refresh(self, refresh_token: str) -> Session:
        async with self._uow() as uow:
            token = await uow.refresh_tokens.by_hash(hash_refresh_token(refresh_token), lock=True)
            now = self._clock.now()
            if token is None or token.revoked_at is not None or now >= token.expires_at:
                raise Unauthenticated("the refresh token is invalid, expired or revoked", code="invalid_refresh_token")
            if token.rotated_at is not None:
                await uow.refresh_tokens.revoke_family(token.family_id, now)
                await uow.commit()
                reused = token.family_id
            else:
                reused = None
                session = await self._rotate(uow, token, now)
                await uow.commit()
        if reused is not None:  # raised once the revocation is committed, outside the transaction
            await self._revocations.revoke([reused])
            raise Unauthenticated("this refresh token was already used; every session of this login is revoked",
                                  code="refresh_token_reused")
        return session

    async def _rotate(self, uow: UnitOfWork, token: RefreshToken, now: datetime) -> Session:
        user = await uow.users.get(token.user_id)
        if user is None:
            raise Unauthenticated("the refresh token is invalid", code="invalid_refresh_token")
        token.rotated_at = now
        await uow.refresh_tokens.save(token)
        return await self.start(uow, user, token.family_id)

    async def logout(self, refresh_token: str | None, session_id: uuid.UUID | None) -> None:
        """Revoke one login (family), named by its refresh token or by the caller's JWT."""
        async with self._uow() as uow:
            if refresh_token is not None:
                token = await uow.refresh_tokens.by_hash(hash_refresh_token(refresh_token))
                if token is None:
                    raise Unauthenticated("the refresh token is invalid", code="invalid_refresh_token")
                session_id = token.family_id
            if session_id is None:
                raise Unauthenticated("log out needs an access token or a refresh token")
            await uow.refresh_tokens.revoke_family(session_id, self._clock.now())
            await uow.commit()
        await self._revocations.revoke([session_id])

    async def end_all(self, uow: UnitOfWork, user_id: uuid.UUID) -> list[uuid.UUID]:
        """Revoke every refresh token of a user (password change); the families, to publish
        to the revocation list once the caller has committed."""
        return await uow.refresh_tokens.revoke_user(user_id, self._clock.now())

    async def publish_revoked(self, family_ids: list[uuid.UUID]) -> None:
        if family_ids:
            await self._revocations.revoke(family_ids)

    async def is_revoked(self, session_id: uuid.UUID) -> bool:
        return await self._revocations.is_revoked(session_id)

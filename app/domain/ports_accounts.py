"""Ports of users and sessions: repositories, password hashing, access tokens, throttling."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.domain.model.session import RefreshToken
from app.domain.model.user import User


class UserRepository(Protocol):
    async def add(self, user: User) -> bool:
        """Insert; False (nothing written) when the email is taken in that merchant."""

    async def get(self, user_id: uuid.UUID) -> User | None: ...

    async def by_email(self, merchant_id: uuid.UUID | None, email: str) -> User | None: ...

    async def save(self, user: User) -> None: ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def by_hash(self, token_hash: str, *, lock: bool = False) -> RefreshToken | None:
        """The token with this hash; `lock` holds its row until the transaction ends."""

    async def save(self, token: RefreshToken) -> None: ...

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None: ...

    async def revoke_user(self, user_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
        """Revoke every live token of the user; the families that had one."""


class PasswordHasher(Protocol):
    """A memory-hard password hash (Argon2id). Async: hashing takes tens of milliseconds."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...

    @property
    def cost(self) -> str:
        """The parameters, for reports ("argon2id t=2 m=19456KiB p=1")."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_at: datetime


class AccessTokenIssuer(Protocol):
    def issue(self, user: User, session_id: uuid.UUID, now: datetime) -> AccessToken: ...


class SessionRevocations(Protocol):
    """Families revoked while their access tokens may still be unexpired; consulted on
    every JWT-authenticated request so logout takes effect at once."""

    async def revoke(self, family_ids: list[uuid.UUID]) -> None: ...

    async def is_revoked(self, family_id: uuid.UUID) -> bool: ...


class LoginThrottle(Protocol):
    """Failed-login counters shared by every API process, with growing delays."""

    async def retry_after(self, keys: list[str]) -> float | None:
        """Seconds to wait before any of these keys may try again, or None."""

    async def failed(self, keys: list[str]) -> None: ...

    async def succeeded(self, keys: list[str]) -> None: ...

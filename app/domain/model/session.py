"""Refresh tokens: rotated on every use, stored hashed, grouped in families (one per login).

A family has at most one live token (the database enforces it). Presenting a token that
was already rotated means someone kept a copy: the whole family is revoked."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

TOKEN_PREFIX = "rt_"


def hash_refresh_token(token: str) -> str:
    # 256 random bits: a fast hash is enough and keeps the lookup one indexed query.
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(eq=False, slots=True)
class RefreshToken:
    id: uuid.UUID
    family_id: uuid.UUID
    user_id: uuid.UUID
    token_hash: str
    issued_at: datetime
    expires_at: datetime
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def issue(cls, user_id: uuid.UUID, now: datetime, ttl_s: int,
              family_id: uuid.UUID | None = None) -> tuple[RefreshToken, str]:
        """A new token (of a new family unless given) and its secret, which is not kept."""
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls(uuid.uuid4(), family_id or uuid.uuid4(), user_id, hash_refresh_token(secret), now,
                    now + timedelta(seconds=ttl_s))
        return token, secret

    def is_live(self, now: datetime) -> bool:
        return self.rotated_at is None and self.revoked_at is None and now < self.expires_at

"""Users and sessions: request/response schemas. Secrets (passwords, refresh tokens)
only ever travel in request bodies and in the one response that issues them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from app.domain.model.user import Role, User
from app.domain.services.sessions import Session
from app.entrypoints.http.schemas import patterns

# Generous bounds at the edge (the domain states the real policy with its own problem codes).
Email = Annotated[str, Meta(min_length=3, max_length=320, examples=["ada@example.com"])]
Password = Annotated[str, Meta(min_length=1, max_length=1024)]
RefreshTokenText = Annotated[str, Meta(min_length=10, max_length=200, pattern=patterns.whole(r"rt_[A-Za-z0-9_\-]+"))]


class Register(msgspec.Struct, forbid_unknown_fields=True):
    merchant_id: uuid.UUID  # the shop the customer registers with
    email: Email
    password: Password


class Login(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    merchant_id: uuid.UUID | None = None  # customers and staff: their merchant; admins: none


class RefreshRequest(msgspec.Struct, forbid_unknown_fields=True):
    refresh_token: RefreshTokenText


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: Password


class UserCreate(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password
    role: Role = Role.MERCHANT
    merchant_id: uuid.UUID | None = None


class UserOut(msgspec.Struct):
    id: uuid.UUID
    email: str
    role: Role
    merchant_id: uuid.UUID | None
    created_at: datetime

    @classmethod
    def from_domain(cls, user: User) -> UserOut:
        return cls(user.id, user.email, user.role, user.merchant_id, user.created_at)


class Tokens(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int  # seconds
    refresh_token: str
    refresh_expires_at: datetime
    user: UserOut

    @classmethod
    def from_session(cls, session: Session, now: datetime) -> Tokens:
        return cls(session.access.token, "Bearer", max(0, int((session.access.expires_at - now).total_seconds())),
                   session.refresh_token, session.refresh_expires_at, UserOut.from_domain(session.user))

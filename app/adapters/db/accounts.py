"""Piccolo repositories of users and refresh tokens (inside the unit of work's transaction)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from app.adapters.db.tables import RefreshTokenTable, UserTable
from app.domain.model.session import RefreshToken
from app.domain.model.user import Role, User

USER_FIELDS = ("id", "email", "password_hash", "created_at", "password_changed_at", "merchant_id")
TOKEN_FIELDS = ("id", "family_id", "user_id", "token_hash", "issued_at", "expires_at", "rotated_at", "revoked_at")


def _user(row: dict[str, Any]) -> User:
    return User(role=Role(row["role"]), **{name: row[name] for name in USER_FIELDS})


def _token(row: dict[str, Any]) -> RefreshToken:
    return RefreshToken(**{name: row[name] for name in TOKEN_FIELDS})


class PiccoloUserRepository:
    async def add(self, user: User) -> bool:
        row = {name: getattr(user, name) for name in USER_FIELDS}
        # DO NOTHING: a taken email (users_email_key) is an answer, not an aborted transaction.
        inserted = await (UserTable.insert(UserTable(role=user.role.value, **row))
                          .on_conflict(action="DO NOTHING").returning(UserTable.id).run())
        return bool(inserted)

    async def get(self, user_id: uuid.UUID) -> User | None:
        row = await UserTable.select().where(UserTable.id == user_id).first().run()
        return _user(row) if row else None

    async def by_email(self, merchant_id: uuid.UUID | None, email: str) -> User | None:
        owner = UserTable.merchant_id.is_null() if merchant_id is None else UserTable.merchant_id == merchant_id
        row = await UserTable.select().where(owner & (UserTable.email == email)).first().run()
        return _user(row) if row else None

    async def save(self, user: User) -> None:
        await UserTable.update({UserTable.password_hash: user.password_hash,
                                UserTable.password_changed_at: user.password_changed_at}
                               ).where(UserTable.id == user.id).run()


class PiccoloRefreshTokenRepository:
    async def add(self, token: RefreshToken) -> None:
        await RefreshTokenTable.insert(RefreshTokenTable(**{name: getattr(token, name) for name in TOKEN_FIELDS})).run()

    async def by_hash(self, token_hash: str, *, lock: bool = False) -> RefreshToken | None:
        query = RefreshTokenTable.select().where(RefreshTokenTable.token_hash == token_hash)
        row = await (query.lock_rows() if lock else query).first().run()
        return _token(row) if row else None

    async def save(self, token: RefreshToken) -> None:
        await RefreshTokenTable.update({RefreshTokenTable.rotated_at: token.rotated_at,
                                        RefreshTokenTable.revoked_at: token.revoked_at}
                                       ).where(RefreshTokenTable.id == token.id).run()

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        await RefreshTokenTable.update({RefreshTokenTable.revoked_at: now}).where(
            (RefreshTokenTable.family_id == family_id) & RefreshTokenTable.revoked_at.is_null()).run()

    async def revoke_user(self, user_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
        rows = await RefreshTokenTable.update({RefreshTokenTable.revoked_at: now}).where(
            (RefreshTokenTable.user_id == user_id) & RefreshTokenTable.revoked_at.is_null()
        ).returning(RefreshTokenTable.family_id).run()
        return sorted({row["family_id"] for row in rows})

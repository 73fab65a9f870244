"""In-memory fakes of the account and vault ports: users, refresh tokens and saved cards
(tables of the fake unit of work), password hashing, access tokens, session revocations,
login throttling, card sealing and the CVC cache."""

from __future__ import annotations

import base64
import builtins
import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from app.domain.model.saved_card import SavedCard, SealedNumber
from app.domain.model.session import RefreshToken
from app.domain.model.user import User
from app.domain.ports_accounts import AccessToken


class InMemoryUserRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    async def add(self, user: User) -> bool:
        return await self._table.insert(user.id, user, on_conflict_do_nothing=True)

    async def get(self, user_id: uuid.UUID) -> User | None:
        return self._table.read(user_id)

    async def by_email(self, merchant_id: uuid.UUID | None, email: str) -> User | None:
        found = self._table.select(lambda u: u.merchant_id == merchant_id and u.email == email)
        return found[0] if found else None

    async def save(self, user: User) -> None:
        await self._table.update(user.id, user)


class InMemoryRefreshTokenRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    async def add(self, token: RefreshToken) -> None:
        await self._table.insert(token.id, token)

    async def by_hash(self, token_hash: str, *, lock: bool = False) -> RefreshToken | None:
        found = self._table.select(lambda t: t.token_hash == token_hash)
        if not found:
            return None
        if lock:  # then read again: the row as the lock holder left it
            await self._table.lock(found[0].id)
        return self._table.read(found[0].id)

    async def save(self, token: RefreshToken) -> None:
        await self._table.update(token.id, token)

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        for token in self._table.select(lambda t: t.family_id == family_id and t.revoked_at is None):
            token.revoked_at = now
            await self._table.update(token.id, token)

    async def revoke_user(self, user_id: uuid.UUID, now: datetime) -> list[uuid.UUID]:
        families = set()
        for token in self._table.select(lambda t: t.user_id == user_id and t.revoked_at is None):
            token.revoked_at = now
            await self._table.update(token.id, token)
            families.add(token.family_id)
        return sorted(families)


class InMemorySavedCardRepository:
    def __init__(self, table: Any) -> None:
        self._table = table

    async def add(self, card: SavedCard) -> None:
        await self._table.insert(card.token, card)

    async def get(self, token: str, *, lock: bool = False) -> SavedCard | None:
        if lock:
            await self._table.lock(token)
        return self._table.read(token)

    async def list(self, merchant_id: uuid.UUID, user_id: uuid.UUID | None, limit: int) -> list[SavedCard]:
        found = self._table.select(lambda c: c.merchant_id == merchant_id and c.deleted_at is None
                                   and (user_id is None or c.user_id == user_id))
        return sorted(found, key=lambda c: c.created_at, reverse=True)[:limit]

    async def save(self, card: SavedCard) -> None:
        await self._table.update(card.token, card)

    async def sealed_under(self, key_ids: builtins.list[str], limit: int) -> builtins.list[SavedCard]:
        found = self._table.select(lambda c: c.deleted_at is None and c.sealed and c.sealed.key_id in key_ids)
        return found[:limit]


class FakePasswordHasher:
    """Salted SHA-256 with a version tag: fast, but tells passwords apart like Argon2 does."""

    def __init__(self, version: str = "v1") -> None:
        self.version = version
        self.verified = 0  # how many verifications ran (the dummy one on unknown emails too)

    @property
    def cost(self) -> str:
        return f"fake {self.version}"

    async def hash(self, password: str) -> str:
        salt = uuid.uuid4().hex
        return f"{self.version}${salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verified += 1
        _, salt, digest = password_hash.split("$")
        return hashlib.sha256((salt + password).encode()).hexdigest() == digest

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith(self.version + "$")


class FakeAccessTokens:
    def __init__(self, ttl_s: int = 900) -> None:
        self.ttl_s = ttl_s

    def issue(self, user: User, session_id: uuid.UUID, now: datetime) -> AccessToken:
        return AccessToken(f"jwt.{user.id}.{session_id}", now + timedelta(seconds=self.ttl_s))


class InMemorySessionRevocations:
    def __init__(self) -> None:
        self.revoked: set[uuid.UUID] = set()

    async def revoke(self, family_ids: list[uuid.UUID]) -> None:
        self.revoked.update(family_ids)

    async def is_revoked(self, family_id: uuid.UUID) -> bool:
        return family_id in self.revoked


class InMemoryKeyRevocations:
    def __init__(self) -> None:
        self.changes = 0

    async def changed(self) -> None:
        self.changes += 1

    async def version(self) -> str:
        return str(self.changes)


class InMemoryLoginThrottle:
    """Blocks a key for `delay_s` after `free` failures (no growth: the Redis one is tested for that)."""

    def __init__(self, free: int = 3, delay_s: float = 30.0) -> None:
        self.free, self.delay_s = free, delay_s
        self.failures: dict[str, int] = {}

    async def retry_after(self, keys: list[str]) -> float | None:
        return self.delay_s if any(self.failures.get(key, 0) >= self.free for key in keys) else None

    async def failed(self, keys: list[str]) -> None:
        for key in keys:
            self.failures[key] = self.failures.get(key, 0) + 1

    async def succeeded(self, keys: list[str]) -> None:
        for key in keys:
            self.failures.pop(key, None)


class FakeCardSealer:
    """Reversible but tagged with the key id and context, so a wrong key or record fails."""

    def __init__(self, current_key_id: str = "v1") -> None:
        self.current_key_id = current_key_id
        self.key_ids = ["v1", "v2"]

    def seal(self, plaintext: bytes, context: bytes) -> SealedNumber:
        return SealedNumber(self.current_key_id, base64.b64encode(context + b"|" + plaintext[::-1]))

    def open(self, sealed: SealedNumber, context: bytes) -> bytes:
        bound, _, reversed_plain = base64.b64decode(sealed.ciphertext).partition(b"|")
        if bound != context:
            raise ValueError("sealed for another record")
        return reversed_plain[::-1]

    def fingerprint(self, merchant_id: uuid.UUID, number: str) -> str:
        return hashlib.sha256(merchant_id.bytes + number.encode()).hexdigest()[:24]


class InMemoryCvcCache:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def put(self, token: str, cvc: str) -> None:
        self.values[token] = cvc

    async def take(self, token: str) -> str | None:
        return self.values.pop(token, None)

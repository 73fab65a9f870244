"""The short-lived card cache: card details between POST /payments and the provider call.

AES-GCM under a versioned key, in Redis with a TTL, never in PostgreSQL: the CVC may
only live until authorisation (PCI DSS 3.2)."""

from __future__ import annotations

import uuid

import msgspec
import redis.asyncio as redis_async

from app.adapters.vault.keyring import VaultKeyring
from app.domain.model.card import CardDetails, CardToken


class _Stored(msgspec.Struct, tag_field="kind"):
    pass


class _Card(_Stored, tag="card"):
    number: str
    exp_month: int
    exp_year: int
    cvc: str


class _Token(_Stored, tag="token"):
    token: str
    brand: str | None = None
    last4: str | None = None


class RedisCardDataCache:
    def __init__(self, client: redis_async.Redis, keyring: VaultKeyring, ttl_s: int = 900) -> None:
        self._client, self._keyring, self._ttl_s = client, keyring, ttl_s

    @staticmethod
    def _name(attempt_id: uuid.UUID) -> str:
        return f"fxp:card:{attempt_id}"

    async def put(self, attempt_id: uuid.UUID, method: CardDetails | CardToken) -> None:
        stored = (_Card(method.number, method.exp_month, method.exp_year, method.cvc)
                  if isinstance(method, CardDetails) else _Token(method.token, method.brand, method.last4))
        value = self._keyring.seal_text(msgspec.json.encode(stored), attempt_id.bytes)
        await self._client.set(self._name(attempt_id), value, ex=self._ttl_s)

    async def get(self, attempt_id: uuid.UUID) -> CardDetails | CardToken | None:
        value = await self._client.get(self._name(attempt_id))
        if value is None:
            return None
        plain = self._keyring.open_text(value, attempt_id.bytes)
        stored = msgspec.json.decode(plain, type=_Card | _Token)
        if isinstance(stored, _Card):
            return CardDetails(stored.number, stored.exp_month, stored.exp_year, stored.cvc)
        return CardToken(stored.token, stored.brand, stored.last4)

    async def discard(self, attempt_id: uuid.UUID) -> None:
        await self._client.delete(self._name(attempt_id))

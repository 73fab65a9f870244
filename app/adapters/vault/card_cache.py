"""The short-lived card cache: card details between POST /payments and the provider call.

AES-GCM under a versioned key, in Redis with a TTL, never in PostgreSQL: the CVC may
only live until authorisation (PCI DSS 3.2)."""

from __future__ import annotations

import base64
import os
import uuid

import msgspec
import redis.asyncio as redis_async
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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
    def __init__(self, client: redis_async.Redis, keys: dict[str, bytes], current_key_id: str,
                 ttl_s: int = 900) -> None:
        self._client, self._keys, self._current, self._ttl_s = client, keys, current_key_id, ttl_s

    @staticmethod
    def _name(attempt_id: uuid.UUID) -> str:
        return f"fxp:card:{attempt_id}"

    async def put(self, attempt_id: uuid.UUID, method: CardDetails | CardToken) -> None:
        stored = (_Card(method.number, method.exp_month, method.exp_year, method.cvc)
                  if isinstance(method, CardDetails) else _Token(method.token, method.brand, method.last4))
        nonce = os.urandom(12)
        sealed = AESGCM(self._keys[self._current]).encrypt(nonce, msgspec.json.encode(stored), attempt_id.bytes)
        value = f"{self._current}:{base64.b64encode(nonce + sealed).decode()}"
        await self._client.set(self._name(attempt_id), value, ex=self._ttl_s)

    async def get(self, attempt_id: uuid.UUID) -> CardDetails | CardToken | None:
        value = await self._client.get(self._name(attempt_id))
        if value is None:
            return None
        key_id, _, blob = (value.decode() if isinstance(value, bytes) else value).partition(":")
        raw = base64.b64decode(blob)
        plain = AESGCM(self._keys[key_id]).decrypt(raw[:12], raw[12:], attempt_id.bytes)
        stored = msgspec.json.decode(plain, type=_Card | _Token)
        if isinstance(stored, _Card):
            return CardDetails(stored.number, stored.exp_month, stored.exp_year, stored.cvc)
        return CardToken(stored.token, stored.brand, stored.last4)

    async def discard(self, attempt_id: uuid.UUID) -> None:
        await self._client.delete(self._name(attempt_id))

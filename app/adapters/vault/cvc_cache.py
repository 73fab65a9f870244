"""The CVC of a freshly saved card, sealed in Redis with a short TTL and taken (GETDEL)
by the next payment with the card: never in PostgreSQL, never kept after authorisation."""

from __future__ import annotations

import redis.asyncio as redis_async
from cryptography.exceptions import InvalidTag

from app.adapters.vault.keyring import VaultKeyring


class RedisCvcCache:
    def __init__(self, client: redis_async.Redis, keyring: VaultKeyring, ttl_s: int) -> None:
        self._client, self._keyring, self._ttl_s = client, keyring, ttl_s

    @staticmethod
    def _name(token: str) -> str:
        return f"fxp:cvc:{token}"

    async def put(self, token: str, cvc: str) -> None:
        await self._client.set(self._name(token), self._keyring.seal_text(cvc.encode(), token.encode()), ex=self._ttl_s)

    async def take(self, token: str) -> str | None:
        value = await self._client.getdel(self._name(token))
        if value is None:
            return None
        try:
            return self._keyring.open_text(value, token.encode()).decode()
        except (KeyError, InvalidTag):  # sealed under a key retired since: as good as expired
            return None

"""Ports of the card vault: saved-card records, the sealing keys, the CVC cache."""

from __future__ import annotations

import builtins
import uuid
from typing import Protocol

from app.domain.model.saved_card import SavedCard, SealedNumber


class SavedCardRepository(Protocol):
    async def add(self, card: SavedCard) -> None: ...

    async def get(self, token: str, *, lock: bool = False) -> SavedCard | None: ...

    async def list(self, merchant_id: uuid.UUID, user_id: uuid.UUID | None, limit: int) -> builtins.list[SavedCard]:
        """Live (not deleted) cards, newest first; `user_id` None: every card of the merchant."""

    async def save(self, card: SavedCard) -> None: ...

    async def sealed_under(self, key_ids: builtins.list[str], limit: int) -> builtins.list[SavedCard]:
        """Live cards whose number is sealed under one of these keys, locked (skipping locked rows)."""


class CardSealer(Protocol):
    """AES-GCM under versioned keys; the newest seals, any known one opens."""

    @property
    def current_key_id(self) -> str: ...

    @property
    def key_ids(self) -> list[str]:
        """Every key it can open with, the current one included."""

    def seal(self, plaintext: bytes, context: bytes) -> SealedNumber: ...

    def open(self, sealed: SealedNumber, context: bytes) -> bytes: ...

    def fingerprint(self, merchant_id: uuid.UUID, number: str) -> str:
        """Keyed HMAC of the number, scoped to the merchant: stable, not reversible."""


class CvcCache(Protocol):
    """The CVC of a freshly saved card: encrypted, short TTL, taken by the next payment."""

    async def put(self, token: str, cvc: str) -> None: ...

    async def take(self, token: str) -> str | None: ...

"""Saved cards (seed 004's Card Management Service): a vault record per tokenized card.

The number is kept only sealed (AES-GCM, key id on the record); what the API shows is
the token, brand, last4, expiry and a keyed fingerprint. Deleting is a soft delete that
also erases the sealed number: past payments stay readable, the card cannot pay again."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from app.domain.errors import ValidationFailed

TOKEN_PREFIX = "card_"
HOLDER_MAX = 100


def new_card_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(18)


def check_holder_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= HOLDER_MAX or not all(ch.isprintable() for ch in name):
        raise ValidationFailed(f"holder_name must be 1-{HOLDER_MAX} printable characters", field="holder_name",
                               code="invalid_holder_name")
    return name


@dataclass(frozen=True, slots=True)
class SealedNumber:
    key_id: str
    ciphertext: bytes


@dataclass(eq=False, slots=True)
class SavedCard:
    token: str
    merchant_id: uuid.UUID
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    holder_name: str
    fingerprint: str
    created_at: datetime
    sealed: SealedNumber | None  # None once deleted
    user_id: uuid.UUID | None = None  # the customer it belongs to; None: the merchant's own
    deleted_at: datetime | None = None

    def expired(self, today: date) -> bool:
        return (self.exp_year, self.exp_month) < (today.year, today.month)

    def visible_to(self, merchant_id: uuid.UUID, customer_id: uuid.UUID | None) -> bool:
        """A customer sees its own cards; the merchant (key or staff) sees all of its cards."""
        return self.merchant_id == merchant_id and (customer_id is None or self.user_id == customer_id)

    def delete(self, now: datetime) -> None:
        self.deleted_at = self.deleted_at or now
        self.sealed = None

    def __repr__(self) -> str:
        return f"SavedCard({self.token} {self.brand} ****{self.last4})"

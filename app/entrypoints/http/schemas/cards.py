"""Card vault schemas: the number and CVC come in once; only token, brand, last4,
expiry and fingerprint ever go out."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from app.domain.model.saved_card import SavedCard
from app.domain.services.vault import NewCard
from app.entrypoints.http.schemas import patterns


class CardCreate(msgspec.Struct, forbid_unknown_fields=True):
    number: Annotated[str, Meta(pattern=patterns.CARD_NUMBER)]
    exp_month: Annotated[int, Meta(ge=1, le=12)]
    exp_year: Annotated[int, Meta(ge=0, le=9999)]
    cvc: Annotated[str, Meta(pattern=patterns.whole(r"[0-9]{1,8}"), description="3 or 4 digits")]
    holder_name: Annotated[str, Meta(min_length=1, max_length=200)]

    def to_domain(self) -> NewCard:
        return NewCard(self.number, self.exp_month, self.exp_year, self.cvc, self.holder_name)

    def __repr__(self) -> str:
        return "CardCreate(***)"


class Card(msgspec.Struct):
    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    holder_name: str
    fingerprint: str
    customer_id: uuid.UUID | None  # None: the merchant's own card
    created_at: datetime

    @classmethod
    def from_domain(cls, card: SavedCard) -> Card:
        return cls(card.token, card.brand, card.last4, card.exp_month, card.exp_year, card.holder_name,
                   card.fingerprint, card.user_id, card.created_at)


class CardList(msgspec.Struct):
    data: list[Card]

"""Piccolo repository of saved cards: the sealed number and its key id, never the number."""

from __future__ import annotations

import builtins
import uuid
from typing import Any

from app.adapters.db.tables import SavedCardTable
from app.domain.model.saved_card import SavedCard, SealedNumber

PLAIN_FIELDS = ("token", "merchant_id", "user_id", "brand", "last4", "exp_month", "exp_year", "holder_name",
                "fingerprint", "created_at", "deleted_at")


def _row(card: SavedCard) -> dict[str, Any]:
    row = {name: getattr(card, name) for name in PLAIN_FIELDS}
    row.update(key_id=card.sealed.key_id if card.sealed else None,
               pan_sealed=card.sealed.ciphertext if card.sealed else None)
    return row


def _card(row: dict[str, Any]) -> SavedCard:
    sealed = SealedNumber(row["key_id"], bytes(row["pan_sealed"])) if row["pan_sealed"] is not None else None
    return SavedCard(sealed=sealed, **{name: row[name] for name in PLAIN_FIELDS})


class PiccoloSavedCardRepository:
    async def add(self, card: SavedCard) -> None:
        await SavedCardTable.insert(SavedCardTable(**_row(card))).run()

    async def get(self, token: str, *, lock: bool = False) -> SavedCard | None:
        query = SavedCardTable.select().where(SavedCardTable.token == token)
        row = await (query.lock_rows() if lock else query).first().run()
        return _card(row) if row else None

    async def list(self, merchant_id: uuid.UUID, user_id: uuid.UUID | None, limit: int) -> builtins.list[SavedCard]:
        where = (SavedCardTable.merchant_id == merchant_id) & SavedCardTable.deleted_at.is_null()
        if user_id is not None:
            where &= SavedCardTable.user_id == user_id
        rows = await (SavedCardTable.select().where(where).order_by(SavedCardTable.created_at, ascending=False)
                      .limit(limit).run())
        return [_card(row) for row in rows]

    async def save(self, card: SavedCard) -> None:
        row = _row(card)
        await SavedCardTable.update({SavedCardTable.key_id: row["key_id"], SavedCardTable.pan_sealed: row["pan_sealed"],
                                     SavedCardTable.deleted_at: row["deleted_at"]}
                                    ).where(SavedCardTable.token == card.token).run()

    async def sealed_under(self, key_ids: builtins.list[str], limit: int) -> builtins.list[SavedCard]:
        rows = await (SavedCardTable.select()
                      .where(SavedCardTable.deleted_at.is_null() & SavedCardTable.key_id.is_in(key_ids))
                      .limit(limit).lock_rows(skip_locked=True).run())
        return [_card(row) for row in rows]

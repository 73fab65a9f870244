"""Opaque keyset cursors for list endpoints: base64 of (created_at, id)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from app.domain.errors import ValidationFailed


def encode_cursor(created_at: datetime, item_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{item_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, item_id = raw.partition("|")
        parsed_at = datetime.fromisoformat(at)
        if parsed_at.tzinfo is None:
            raise ValueError("naive timestamp")
        return parsed_at, uuid.UUID(item_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("cursor is not valid; pass next_cursor from a previous page",
                               field="cursor", code="invalid_cursor") from None

"""Opaque keyset cursors for list endpoints: base64 of (created_at, id)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from litestar.params import Parameter

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


# RFC 3339 timestamps only: the framework would also take bare numbers as epoch seconds.
TIMESTAMP = Parameter(description="RFC 3339 date-time with offset, e.g. 2026-11-22T10:00:00Z",
                      pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
                      max_length=40)


def parse_timestamp(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{field} must be an RFC 3339 date-time", field=field,
                               code="invalid_timestamp") from None

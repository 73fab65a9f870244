"""Opaque keyset cursors for list endpoints: base64 of (created_at, id)."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import UTC, datetime

from litestar.params import Parameter

from app.domain.errors import MalformedRequest
from app.entrypoints.http.schemas.patterns import RFC3339


# What PostgreSQL's timestamptz and our clients can both hold, with room for any offset.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def in_range(value: datetime) -> datetime:
    """`value` if it is an aware timestamp between EARLIEST and LATEST; ValueError otherwise."""
    if value.tzinfo is None or not EARLIEST <= value.astimezone(UTC) <= LATEST:
        raise ValueError("timestamp out of range")
    return value


def encode_cursor(created_at: datetime, item_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{item_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, item_id = raw.partition("|")
        return in_range(datetime.fromisoformat(at)), uuid.UUID(item_id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise MalformedRequest("cursor is not valid; pass next_cursor from a previous page",
                               field="cursor", code="invalid_cursor") from None


# RFC 3339 timestamps only: the framework would also take bare numbers as epoch seconds.
TIMESTAMP = Parameter(description="RFC 3339 date-time with offset, e.g. 2026-11-22T10:00:00Z",
                      pattern=RFC3339,
                      max_length=40)


def parse_timestamp(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return in_range(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        raise MalformedRequest(f"{field} must be an RFC 3339 date-time between 1970 and 9999", field=field,
                               code="invalid_timestamp") from None

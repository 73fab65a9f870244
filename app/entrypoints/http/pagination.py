"""Opaque keyset cursors for list endpoints: base64 of (created_at, id)."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from litestar.params import Parameter

from app.domain.errors import MalformedRequest, ValidationFailed
from app.entrypoints.http.schemas.patterns import RFC3339


# The range of timestamps we store and compare: anything outside it would overflow
# (in Python near years 1 and 9999 with an offset, and in the drivers).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def in_range(value: datetime) -> datetime:
    """`value` if it is an aware timestamp between EARLIEST and LATEST; ValueError otherwise."""
    if value.tzinfo is None or clamped(value) != value:
        raise ValueError("timestamp out of range")
    return value


def clamped(value: datetime) -> datetime:
    """An aware `value` moved into [EARLIEST, LATEST]: as a filter bound it selects the same rows."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        return EARLIEST if value.year < 1970 else LATEST
    return min(max(utc, EARLIEST), LATEST)


def encode_cursor(created_at: datetime, item_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{item_id}".encode()).decode().rstrip("=")


class Keyed(Protocol):
    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> uuid.UUID: ...


def next_cursor(page: Sequence[Keyed], has_more: bool) -> str | None:
    """The cursor of the page after `page` (newest first), or None on the last page."""
    return encode_cursor(page[-1].created_at, page[-1].id) if has_more and page else None


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, item_id = raw.partition("|")
        return in_range(datetime.fromisoformat(at)), uuid.UUID(item_id)
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("cursor is not valid; pass next_cursor from a previous page",
                               field="cursor", code="invalid_cursor") from None


# RFC 3339 timestamps only: the framework would also take bare numbers as epoch seconds.
TIMESTAMP = Parameter(description="RFC 3339 date-time with offset, e.g. 2026-11-22T10:00:00Z; bounds before "
                                  "1970 or after 9998 select the same orders as those years",
                      pattern=RFC3339, max_length=40, schema_extra={"format": "date-time"})


def parse_timestamp(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("no offset")
    except ValueError:
        raise MalformedRequest(f"{field} must be an RFC 3339 date-time with an offset", field=field,
                               code="invalid_timestamp") from None
    return clamped(parsed)

"""Notification preference schemas (msgspec). Categories and channels are enums; the
addresses are checked by the domain (422 invalid_email / invalid_phone)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from app.domain.model.notification import Category, Channel, NotificationPreferences

Channels = Annotated[list[Channel], Meta(max_length=len(Channel), description="channels switched on; [] = none")]


class NotificationPreferencesUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Per category, the channels to use (a category left out: email only). `email`
    overrides the account's (or the order's) address, `phone` (E.164, e.g. +14155550100)
    the order's; null: none of our own."""

    channels: dict[Category, Channels] = {}
    email: Annotated[str, Meta(max_length=254)] | None = None
    phone: Annotated[str, Meta(max_length=32)] | None = None

    def to_domain(self) -> NotificationPreferences:
        return NotificationPreferences.build({str(k): [str(c) for c in v] for k, v in self.channels.items()},
                                             self.email, self.phone)


class NotificationPreferencesOut(msgspec.Struct):
    channels: dict[Category, list[Channel]]
    email: str | None
    phone: str | None
    applies_to: str  # "user" (the customer's own) or "guest_customers" (a merchant's choice for its guests)

    @classmethod
    def from_domain(cls, preferences: NotificationPreferences, applies_to: str) -> NotificationPreferencesOut:
        return cls({category: sorted(chosen) for category, chosen in preferences.as_table().items()},
                   preferences.email, preferences.phone, applies_to)

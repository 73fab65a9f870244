"""Notification preference schemas (msgspec). Categories are the fields of a struct (not
free map keys: the schema names every one), channels an enum; the addresses are checked by
the domain (422 invalid_email / invalid_phone)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from app.domain.model.notification import Category, Channel, NotificationPreferences

Channels = Annotated[list[Channel], Meta(max_length=len(Channel), description="channels switched on; [] = none")]


class CategoryChannels(msgspec.Struct, forbid_unknown_fields=True):
    """Per category, the channels to use; a category left out (or null) keeps email only."""

    payment_receipt: Channels | None = None
    payment_failed: Channels | None = None
    refund_issued: Channels | None = None
    order_cancelled: Channels | None = None
    fulfillment_started: Channels | None = None

    def chosen(self) -> dict[str, list[str]]:
        return {category.value: [str(c) for c in value] for category in Category
                if (value := getattr(self, category.value)) is not None}


class NotificationPreferencesUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """The channels per category; `email` overrides the account's (or the order's)
    address, `phone` (E.164, e.g. +14155550100) the order's; null or empty: none of our own."""

    channels: CategoryChannels = msgspec.field(default_factory=CategoryChannels)
    email: Annotated[str, Meta(max_length=254)] | None = None
    phone: Annotated[str, Meta(max_length=32)] | None = None

    def to_domain(self) -> NotificationPreferences:
        return NotificationPreferences.build(self.channels.chosen(), self.email, self.phone)


class NotificationPreferencesOut(msgspec.Struct):
    channels: CategoryChannels  # every category, defaults filled in
    email: str | None
    phone: str | None
    applies_to: str  # "user" (the customer's own) or "guest_customers" (a merchant's choice for its guests)

    @classmethod
    def from_domain(cls, preferences: NotificationPreferences, applies_to: str) -> NotificationPreferencesOut:
        table = {category.value: sorted(chosen) for category, chosen in preferences.as_table().items()}
        return cls(CategoryChannels(**table), preferences.email, preferences.phone, applies_to)

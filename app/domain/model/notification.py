"""Shopper notifications (seed 004's Notification Service): which events a shopper hears
about (categories), on which channels, at which address. A delivery is one message of
one event on one channel to one recipient — the unit that is sent at most once."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.domain.errors import ValidationFailed
from app.domain.model.user import normalize_email


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"


class Category(StrEnum):
    PAYMENT_RECEIPT = "payment_receipt"
    PAYMENT_FAILED = "payment_failed"
    REFUND_ISSUED = "refund_issued"
    ORDER_CANCELLED = "order_cancelled"
    FULFILLMENT_STARTED = "fulfillment_started"


# The events that may notify a shopper (app/domain/routing.py routes these).
SHOPPER_EVENTS = frozenset({"payment.succeeded", "payment.failed", "refund.succeeded", "order.status_changed",
                            "order.fulfillment_started"})


def category_of(event_type: str, payload: Mapping[str, Any]) -> Category | None:
    """The category of a committed event, or None when the shopper is not told about it."""
    if event_type == "payment.succeeded":
        return Category.PAYMENT_RECEIPT
    if event_type == "payment.failed":
        return Category.PAYMENT_FAILED
    if event_type == "refund.succeeded":
        return Category.REFUND_ISSUED
    if event_type == "order.fulfillment_started":
        return Category.FULFILLMENT_STARTED
    if event_type == "order.status_changed" and payload.get("status") == "ORDER_CANCELLED":
        return Category.ORDER_CANCELLED
    return None


# E.164: a plus, a country code not starting with 0, at most 15 digits in all.
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_SEPARATORS = re.compile(r"[ ().\-]")


def normalize_phone(phone: str, field_name: str = "phone") -> str:
    """The number in E.164 (spaces, dots, dashes and brackets dropped), or ValidationFailed."""
    compact = _SEPARATORS.sub("", phone.strip())
    if not _E164.match(compact):
        raise ValidationFailed("phone must be an E.164 number, such as +14155550100", field=field_name,
                               code="invalid_phone")
    return compact


def normalize_contact_email(email: str, field_name: str = "email") -> str:
    try:
        return normalize_email(email)
    except ValidationFailed:
        raise ValidationFailed("email is not a valid address", field=field_name, code="invalid_email") from None


DEFAULT_CHANNELS = frozenset({Channel.EMAIL})  # a shopper who chose nothing gets email only


@dataclass(frozen=True, slots=True)
class NotificationPreferences:
    """Per category, the channels switched on; plus addresses that override the account's
    or the order's. A category left out keeps the default (email only)."""

    channels: Mapping[Category, frozenset[Channel]] = field(default_factory=dict)
    email: str | None = None
    phone: str | None = None

    def allows(self, category: Category, channel: Channel) -> bool:
        return channel in self.channels.get(category, DEFAULT_CHANNELS)

    def as_table(self) -> dict[Category, frozenset[Channel]]:
        """Every category with its channels (defaults filled in)."""
        return {category: self.channels.get(category, DEFAULT_CHANNELS) for category in Category}

    @classmethod
    def build(cls, channels: Mapping[str, list[str]], email: str | None = None,
              phone: str | None = None) -> NotificationPreferences:
        """Validated preferences from plain values (API input, stored rows)."""
        table: dict[Category, frozenset[Channel]] = {}
        for name, chosen in channels.items():
            try:
                category = Category(name)
                table[category] = frozenset(Channel(value) for value in chosen)
            except ValueError:
                raise ValidationFailed(f"unknown category or channel in {name!r}: categories "
                                       f"{', '.join(Category)}, channels {', '.join(Channel)}",
                                       field=f"channels.{name}", code="invalid_preferences") from None
        return cls(table, normalize_contact_email(email) if email else None,
                   normalize_phone(phone) if phone else None)


@dataclass(frozen=True, slots=True)
class Recipients:
    """What is known about the shopper of an order: the order's customer fields, the
    account's email when a user placed it, and the preferences that apply (the user's,
    or the merchant's for guests; None: the defaults)."""

    order_email: str | None
    order_phone: str | None
    user_email: str | None = None
    preferences: NotificationPreferences | None = None


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    event_id: uuid.UUID
    merchant_id: uuid.UUID
    order_id: uuid.UUID
    category: Category
    channel: Channel
    recipient: str


def _e164_or_none(phone: str | None) -> str | None:
    try:  # orders taken before numbers were checked may hold anything
        return normalize_phone(phone) if phone else None
    except ValidationFailed:
        return None


def plan_deliveries(event_id: uuid.UUID, merchant_id: uuid.UUID, order_id: uuid.UUID, category: Category,
                    who: Recipients, available: frozenset[Channel]) -> list[PlannedDelivery]:
    """The messages one event becomes: one per channel switched on, configured and with an
    address. Addresses: the preferences', else the account's (email), else the order's."""
    preferences = who.preferences or NotificationPreferences()
    addresses = {
        Channel.EMAIL: preferences.email or who.user_email or who.order_email,
        Channel.SMS: preferences.phone or _e164_or_none(who.order_phone),
    }
    planned = []
    for channel in Channel:
        address = addresses[channel]
        if channel in available and address and preferences.allows(category, channel):
            planned.append(PlannedDelivery(event_id, merchant_id, order_id, category, channel, address))
    return planned

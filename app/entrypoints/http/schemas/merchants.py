"""Merchant management schemas (admin API, and the CLI's JSON answers)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from app.domain.model.merchant import Merchant as MerchantModel
from app.domain.services.merchants import MAX_GRACE, Rotation
from app.entrypoints.http.schemas.orders import ShortText

WebhookUrl = Annotated[str, Meta(min_length=1, max_length=2000,
                                 description="absolute http(s) URL without user:password@; non-public targets "
                                             "only when FXP_WORKERS__WEBHOOK_ALLOWLIST names them")]
Seconds = Annotated[int, Meta(gt=-1, le=int(MAX_GRACE.total_seconds()))]


class MerchantCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: ShortText
    webhook_url: WebhookUrl | None = None


class MerchantUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Fields left out (or null) stay as they are."""

    name: ShortText | None = None
    webhook_url: WebhookUrl | None = None


class ApiKeyRotate(msgspec.Struct, forbid_unknown_fields=True):
    grace_period_s: Annotated[Seconds | None, Meta(
        description="how long the current key keeps working (default FXP_MERCHANTS__API_KEY_GRACE_S, 24 h); "
                    "0 ends it now")] = None


class WebhookSecretRotate(msgspec.Struct, forbid_unknown_fields=True):
    overlap_s: Annotated[Seconds | None, Meta(
        description="how long webhooks carry a signature with the current secret too (default "
                    "FXP_MERCHANTS__WEBHOOK_SECRET_OVERLAP_S, 24 h)")] = None


class ApiKeyView(msgspec.Struct):
    key_id: str  # the first characters of the key's hash: tells keys apart, reveals nothing
    created_at: datetime
    expires_at: datetime | None
    live: bool


class Merchant(msgspec.Struct):
    id: uuid.UUID
    name: str
    active: bool
    webhook_url: str | None
    webhook_enabled: bool  # false once the endpoint answered 410 Gone (POST .../webhooks/enable)
    webhook_secret_overlap_until: datetime | None  # webhooks carry two signatures until then
    api_keys: list[ApiKeyView]
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def from_domain(cls, m: MerchantModel) -> Merchant:
        now = datetime.now(UTC)
        overlap = m.previous_webhook_secret_expires_at
        keys = [ApiKeyView(k.hash[:12], k.created_at, k.expires_at, k.live(now)) for k in m.api_keys]
        return cls(m.id, m.name, m.active, m.webhook_url, m.webhook_enabled,
                   overlap if overlap and overlap > now else None, keys, m.created_at, m.updated_at)


class MerchantPage(msgspec.Struct):
    data: list[Merchant]
    has_more: bool
    next_cursor: str | None


class CreatedMerchant(msgspec.Struct):
    merchant: Merchant
    api_key: str  # shown once
    webhook_secret: str


class ApiKeyRotated(msgspec.Struct):
    merchant_id: uuid.UUID
    api_key: str | None  # the new key, shown once; null on a replay (the first answer had it)
    previous_key_expires_at: datetime | None
    replayed: bool

    @classmethod
    def from_domain(cls, r: Rotation) -> ApiKeyRotated:
        return cls(r.merchant.id, r.secret, r.previous_expires_at, r.replayed)


class WebhookSecretRotated(msgspec.Struct):
    merchant_id: uuid.UUID
    webhook_secret: str | None  # the new secret, shown once; null on a replay
    previous_secret_expires_at: datetime | None  # both secrets sign webhooks until then
    replayed: bool

    @classmethod
    def from_domain(cls, r: Rotation) -> WebhookSecretRotated:
        return cls(r.merchant.id, r.secret, r.previous_expires_at, r.replayed)


class MerchantChanged(msgspec.Struct):
    merchant: Merchant
    changed: bool  # false: it was so already, the call had no effect

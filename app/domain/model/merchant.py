"""Merchants: who calls the API, where their webhooks go, and the credentials of both:
API keys (kept as hashes; after a rotation the old key works until its grace period
ends) and the webhook signing secret (after a rotation both secrets sign until the
overlap ends, as Standard Webhooks allows several signatures)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(slots=True)
class ApiKey:
    hash: str  # sha256 of the key; the key itself is shown once and never stored
    created_at: datetime
    expires_at: datetime | None = None  # set by a rotation: the end of its grace period

    def live(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(eq=False, slots=True)
class Merchant:
    id: uuid.UUID
    name: str
    api_key_hash: str  # the current key's hash
    created_at: datetime
    webhook_url: str | None = None
    webhook_secret: str | None = None  # "whsec_..." (Standard Webhooks); sealed at rest
    webhook_enabled: bool = True  # False once the endpoint answered 410 Gone
    active: bool = True  # deactivated: its keys stop working, its data stays
    previous_webhook_secret: str | None = None
    previous_webhook_secret_expires_at: datetime | None = None
    updated_at: datetime | None = None
    # The idempotency keys of the latest rotations: a repeated request is not a second rotation.
    api_key_rotation_id: str | None = None
    webhook_secret_rotation_id: str | None = None
    api_keys: list[ApiKey] = field(default_factory=list)  # every key issued, current one included

    def __post_init__(self) -> None:
        if not any(key.hash == self.api_key_hash for key in self.api_keys):
            self.api_keys.append(ApiKey(self.api_key_hash, self.created_at))

    def key(self, key_hash: str) -> ApiKey | None:
        return next((key for key in self.api_keys if key.hash == key_hash), None)

    def rotate_api_key(self, new_hash: str, now: datetime, grace: timedelta) -> datetime:
        """A new current key; every key still live now expires after `grace` at the latest."""
        ends = now + grace
        for key in self.api_keys:
            if key.live(now) and (key.expires_at is None or key.expires_at > ends):
                key.expires_at = ends
        self.api_keys.append(ApiKey(new_hash, now))
        self.api_key_hash = new_hash
        self.updated_at = now
        return ends

    def rotate_webhook_secret(self, new_secret: str, now: datetime, overlap: timedelta) -> datetime:
        """A new signing secret; the current one keeps signing too until `overlap` ends
        (a rotation during an overlap ends the older one's at once)."""
        ends = now + overlap
        self.previous_webhook_secret, self.previous_webhook_secret_expires_at = self.webhook_secret, ends
        self.webhook_secret = new_secret
        self.updated_at = now
        return ends

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets each webhook is signed with now: the current one, and the previous
        one during its overlap."""
        secrets = [self.webhook_secret] if self.webhook_secret else []
        if self.previous_webhook_secret and self.previous_webhook_secret_expires_at and \
                now < self.previous_webhook_secret_expires_at:
            secrets.append(self.previous_webhook_secret)
        return secrets

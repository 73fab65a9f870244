"""Merchant accounts and their secret API keys (shown once, stored as a hash)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from app.domain.model.audit import AuditType
from app.domain.errors import Unauthenticated, ValidationFailed
from app.domain.model.merchant import Merchant
from app.domain.model.webhook_url import checked_webhook_url
from app.domain.ports import Clock, UnitOfWorkFactory, WebhookTargetPolicy

KEY_PREFIX = "sk_"


def hash_api_key(api_key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is safe here (unlike passwords)
    # and keeps authentication to one indexed lookup.
    return hashlib.sha256(api_key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewMerchantCredentials:
    merchant: Merchant
    api_key: str  # the only time the secret exists outside the caller's hands
    webhook_secret: str


class MerchantService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, key_mode: str = "test",
                 target_policy: WebhookTargetPolicy | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._key_mode = key_mode
        self._target_policy = target_policy

    async def create(self, name: str, webhook_url: str | None = None) -> NewMerchantCredentials:
        name = name.strip()
        if not 1 <= len(name) <= 200:
            raise ValidationFailed("name must be 1-200 characters", field="name")
        if webhook_url is not None:
            webhook_url = self._checked_webhook_url(webhook_url)
        api_key = f"{KEY_PREFIX}{self._key_mode}_{secrets.token_urlsafe(32)}"
        # Standard Webhooks secrets are standard base64 after the prefix.
        webhook_secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        merchant = Merchant(uuid.uuid4(), name, hash_api_key(api_key), self._clock.now(), webhook_url,
                            webhook_secret)
        async with self._uow() as uow:
            uow.audit.record(AuditType.ADMIN_ACTION, action="merchant_create", merchant=merchant.id)
            await uow.merchants.add(merchant)
            await uow.commit()
        return NewMerchantCredentials(merchant, api_key, webhook_secret)

    def _checked_webhook_url(self, url: str) -> str:
        url = checked_webhook_url(url)
        if self._target_policy is not None and (reason := self._target_policy.refusal(url)):
            raise ValidationFailed(reason, field="webhook_url", code="webhook_target_refused")
        return url

    async def authenticate(self, api_key: str) -> Merchant:
        if not api_key.startswith(KEY_PREFIX):
            raise Unauthenticated("invalid API key")
        async with self._uow() as uow:
            merchant = await uow.merchants.get_by_key_hash(hash_api_key(api_key))
        if merchant is None:
            raise Unauthenticated("invalid API key")
        return merchant

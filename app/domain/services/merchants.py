"""Merchant accounts and their credentials: secret API keys (shown once, stored as a
hash) and webhook signing secrets; management (list, update, rotations, re-enabling a
disabled webhook endpoint, deactivation).

Changes to a merchant lock its row, so concurrent calls apply one after the other. Each
is an `admin_action` audit record written in the change's transaction (refused ones,
including bad input, are recorded as failed); no secret ever goes into a record.
A rotation sent again with the same idempotency key is not a second rotation (the key
of the latest rotation is kept on the merchant). Every change that ends a key's validity
is announced to the API processes' key caches (KeyRevocations) once committed."""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from app.domain.model.audit import AuditType
from app.domain.model.merchant import Merchant
from app.domain.model.webhook_url import checked_webhook_url
from app.domain.ports import Clock, KeyRevocations, UnitOfWorkFactory, WebhookTargetPolicy

KEY_PREFIX = "sk_"
UNCHANGED = object()  # an update field left out (None would mean "remove the webhook URL")
MAX_GRACE = timedelta(days=30)


def hash_api_key(api_key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is safe here (unlike passwords)
    # and keeps authentication to one indexed lookup.
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_webhook_secret() -> str:
    # Standard Webhooks secrets are standard base64 after the prefix.
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@dataclass(frozen=True, slots=True)
class NewMerchantCredentials:
    merchant: Merchant
    api_key: str  # the only time the secret exists outside the caller's hands
    webhook_secret: str


@dataclass(frozen=True, slots=True)
class Rotation:
    merchant: Merchant
    secret: str | None  # the new API key or webhook secret; None when `replayed`
    previous_expires_at: datetime | None  # until when the previous one still works
    replayed: bool = False  # this idempotency key's rotation was done before: nothing changed


@dataclass(frozen=True, slots=True)
class Change:
    merchant: Merchant
    changed: bool  # False: it was so already (the call had no effect)


@dataclass(frozen=True, slots=True)
class AuthenticatedKey:
    merchant: Merchant
    expires_at: datetime | None  # a rotated key's end of grace; None: no end set


@dataclass(frozen=True, slots=True)
class MerchantPolicy:
    api_key_grace_s: float = 86_400.0
    webhook_secret_overlap_s: float = 86_400.0


class MerchantService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, key_mode: str = "test",
                 target_policy: WebhookTargetPolicy | None = None, revocations: KeyRevocations | None = None,
                 policy: MerchantPolicy = MerchantPolicy()) -> None:
        self._uow = uow
        self._clock = clock
        self._key_mode = key_mode
        self._target_policy = target_policy
        self._revocations = revocations
        self._policy = policy

    def _new_api_key(self) -> str:
        return f"{KEY_PREFIX}{self._key_mode}_{secrets.token_urlsafe(32)}"

    async def create(self, name: str, webhook_url: str | None = None) -> NewMerchantCredentials:
        merchant_id = uuid.uuid4()
        async with self._uow() as uow:
            uow.audit.record(AuditType.ADMIN_ACTION, action="merchant_create", merchant=merchant_id)
            name = _checked_name(name)
            if webhook_url is not None:
                webhook_url = self._checked_webhook_url(webhook_url)
            api_key = self._new_api_key()
            webhook_secret = new_webhook_secret()
            merchant = Merchant(merchant_id, name, hash_api_key(api_key), self._clock.now(), webhook_url,
                                webhook_secret)
            await uow.merchants.add(merchant)
            await uow.commit()
        return NewMerchantCredentials(merchant, api_key, webhook_secret)

    def _checked_webhook_url(self, url: str) -> str:
        url = checked_webhook_url(url)
        if self._target_policy is not None and (reason := self._target_policy.refusal(url)):
            raise ValidationFailed(reason, field="webhook_url", code="webhook_target_refused")
        return url

    async def authenticate(self, api_key: str) -> AuthenticatedKey:
        if not api_key.startswith(KEY_PREFIX):
            raise Unauthenticated("invalid API key")
        key_hash = hash_api_key(api_key)
        async with self._uow() as uow:
            merchant = await uow.merchants.get_by_key_hash(key_hash)
        key = merchant.key(key_hash) if merchant is not None else None
        if merchant is None or key is None or not key.live(self._clock.now()):
            raise Unauthenticated("invalid API key")  # unknown, or rotated and past its grace period
        if not merchant.active:
            raise Unauthenticated("this merchant is deactivated")
        return AuthenticatedKey(merchant, key.expires_at)

    async def list(self, limit: int, cursor: tuple[datetime, uuid.UUID] | None = None) -> list[Merchant]:
        async with self._uow() as uow:
            return await uow.merchants.list(limit, cursor)

    async def get(self, merchant_id: uuid.UUID) -> Merchant:
        async with self._uow() as uow:
            return _found(await uow.merchants.get(merchant_id), merchant_id)

    async def update(self, merchant_id: uuid.UUID, name: object = UNCHANGED,
                     webhook_url: object = UNCHANGED) -> Merchant:
        """Change the name and/or the webhook URL (None removes the endpoint)."""
        async with self._uow() as uow:
            uow.audit.record(AuditType.ADMIN_ACTION, action="merchant_update", merchant=merchant_id)
            new_name = _checked_name(name) if isinstance(name, str) else None
            if name is not UNCHANGED and new_name is None:
                raise ValidationFailed("name must be a string", field="name")
            new_url = webhook_url
            if isinstance(webhook_url, str):
                new_url = self._checked_webhook_url(webhook_url)
            elif webhook_url is not UNCHANGED and webhook_url is not None:
                raise ValidationFailed("webhook_url must be a string or null", field="webhook_url")
            merchant = _active(await uow.merchants.get(merchant_id, lock=True), merchant_id)
            if new_name is not None:
                merchant.name = new_name
            if new_url is not UNCHANGED:
                merchant.webhook_url = new_url if isinstance(new_url, str) else None
            merchant.updated_at = self._clock.now()
            await uow.merchants.save(merchant)
            await uow.commit()
        return merchant

    async def rotate_api_key(self, merchant_id: uuid.UUID, idempotency_key: str | None = None,
                             grace_s: float | None = None) -> Rotation:
        """A new API key; the current one keeps working for the grace period (default
        FXP_MERCHANTS__API_KEY_GRACE_S), then is refused."""
        async with self._uow() as uow:
            audit = uow.audit.record(AuditType.ADMIN_ACTION, action="merchant_rotate_api_key", merchant=merchant_id)
            grace = _grace(self._policy.api_key_grace_s if grace_s is None else grace_s, "grace_period_s")
            merchant = _active(await uow.merchants.get(merchant_id, lock=True), merchant_id)
            if idempotency_key is not None and merchant.api_key_rotation_id == idempotency_key:
                audit.action = "merchant_rotate_api_key_replayed"  # nothing changed: recorded on its own
                previous = [key.expires_at for key in merchant.api_keys if key.hash != merchant.api_key_hash]
                return Rotation(merchant, None, max((at for at in previous if at), default=None), replayed=True)
            api_key = self._new_api_key()
            ends = merchant.rotate_api_key(hash_api_key(api_key), self._clock.now(), grace)
            merchant.api_key_rotation_id = idempotency_key
            await uow.merchants.save(merchant)
            await uow.commit()
        await self._announce()
        return Rotation(merchant, api_key, ends)

    async def rotate_webhook_secret(self, merchant_id: uuid.UUID, idempotency_key: str | None = None,
                                    overlap_s: float | None = None) -> Rotation:
        """A new signing secret; webhooks carry signatures with both until the overlap ends."""
        async with self._uow() as uow:
            audit = uow.audit.record(AuditType.ADMIN_ACTION, action="merchant_rotate_webhook_secret",
                                     merchant=merchant_id)
            overlap = _grace(self._policy.webhook_secret_overlap_s if overlap_s is None else overlap_s, "overlap_s")
            merchant = _active(await uow.merchants.get(merchant_id, lock=True), merchant_id)
            if idempotency_key is not None and merchant.webhook_secret_rotation_id == idempotency_key:
                audit.action = "merchant_rotate_webhook_secret_replayed"
                return Rotation(merchant, None, merchant.previous_webhook_secret_expires_at, replayed=True)
            secret = new_webhook_secret()
            ends = merchant.rotate_webhook_secret(secret, self._clock.now(), overlap)
            merchant.webhook_secret_rotation_id = idempotency_key
            await uow.merchants.save(merchant)
            await uow.commit()
        return Rotation(merchant, secret, ends)

    async def enable_webhooks(self, merchant_id: uuid.UUID) -> Change:
        """Deliver webhooks again to an endpoint disabled by a 410 Gone."""
        async with self._uow() as uow:
            audit = uow.audit.record(AuditType.ADMIN_ACTION, action="merchant_enable_webhooks", merchant=merchant_id)
            merchant = _active(await uow.merchants.get(merchant_id, lock=True), merchant_id)
            if merchant.webhook_enabled:
                audit.action = "merchant_enable_webhooks_unchanged"
                return Change(merchant, changed=False)
            if not merchant.webhook_url:
                raise Conflict("the merchant has no webhook URL; set one first", code="no_webhook_url")
            merchant.webhook_enabled = True
            merchant.updated_at = self._clock.now()
            await uow.merchants.save(merchant)
            await uow.commit()
        return Change(merchant, changed=True)

    async def deactivate(self, merchant_id: uuid.UUID) -> Change:
        """Its keys stop working at once, in every API process; nothing is deleted."""
        async with self._uow() as uow:
            audit = uow.audit.record(AuditType.ADMIN_ACTION, action="merchant_deactivate", merchant=merchant_id)
            merchant = _found(await uow.merchants.get(merchant_id, lock=True), merchant_id)
            if not merchant.active:
                audit.action = "merchant_deactivate_unchanged"
                return Change(merchant, changed=False)
            merchant.active = False
            merchant.updated_at = self._clock.now()
            await uow.merchants.save(merchant)
            await uow.commit()
        await self._announce()
        return Change(merchant, changed=True)

    async def _announce(self) -> None:
        if self._revocations is not None:
            await self._revocations.changed()


def _checked_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise ValidationFailed("name must be 1-200 characters", field="name")
    return name


def _grace(seconds: float, field: str) -> timedelta:
    if not 0 <= seconds <= MAX_GRACE.total_seconds():
        raise ValidationFailed(f"{field} must be 0 to {int(MAX_GRACE.total_seconds())} seconds", field=field)
    return timedelta(seconds=seconds)


def _found(merchant: Merchant | None, merchant_id: uuid.UUID) -> Merchant:
    if merchant is None:
        raise NotFound(f"no merchant {merchant_id}", resource="merchant", id=str(merchant_id))
    return merchant


def _active(merchant: Merchant | None, merchant_id: uuid.UUID) -> Merchant:
    merchant = _found(merchant, merchant_id)
    if not merchant.active:
        raise Conflict(f"merchant {merchant_id} is deactivated", code="merchant_deactivated")
    return merchant

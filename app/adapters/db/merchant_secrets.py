"""Merchants' webhook signing secrets at rest: sealed (AES-GCM) under the vault's
versioned keys (FXP_VAULT__KEYS), bound to the merchant (the merchant id is the
authenticated context, so a sealed value copied to another row does not open).

Stored as "sealed:<key id>:<base64>". A value without that prefix is a secret from
before sealing, or from a process with no configured vault key (dev and tests without
FXP_VAULT__KEYS: a process-local key would make the secret unreadable to every other
process); it is read as it is, and sealed by the next migration or `fusionxpay vault
rekey` run with keys."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import structlog
from cryptography.exceptions import InvalidTag

from app.domain.model.saved_card import SealedNumber
from app.domain.ports_vault import CardSealer

PREFIX = "sealed:"
logger = structlog.get_logger("fusionxpay.vault")


def _context(merchant_id: uuid.UUID) -> bytes:
    return b"webhook-secret:" + merchant_id.bytes


class WebhookSecretBox:
    def __init__(self, sealer: CardSealer | None) -> None:
        self._sealer = sealer  # None: no configured vault key, secrets stay as they are

    @property
    def key_ids(self) -> list[str]:
        return self._sealer.key_ids if self._sealer else []

    def seal(self, merchant_id: uuid.UUID, secret: str | None) -> str | None:
        if secret is None or self._sealer is None or secret.startswith(PREFIX):
            return secret  # nothing to seal with, or still sealed (read without the key: see readable)
        sealed = self._sealer.seal(secret.encode(), _context(merchant_id))
        return f"{PREFIX}{sealed.key_id}:{base64.b64encode(sealed.ciphertext).decode()}"

    def open(self, merchant_id: uuid.UUID, stored: str | None) -> str | None:
        if stored is None or not stored.startswith(PREFIX):
            return stored
        if self._sealer is None:
            raise LookupError("a sealed webhook secret, and no vault key configured (FXP_VAULT__KEYS)")
        key_id, _, blob = stored.removeprefix(PREFIX).partition(":")
        return self._sealer.open(SealedNumber(key_id, base64.b64decode(blob)), _context(merchant_id)).decode()

    def readable(self, merchant_id: uuid.UUID, stored: str | None) -> str | None:
        """`open`, or the stored value itself when this process cannot open it (no key, or a
        key no longer listed): listing and managing merchants must not depend on it, and
        writing the merchant back keeps the sealed value as it was. Such a value never
        signs a webhook (the sender refuses a secret it cannot use)."""
        try:
            return self.open(merchant_id, stored)
        except (LookupError, ValueError, InvalidTag):
            logger.warning("webhook_secret_unreadable", merchant_id=str(merchant_id))
            return stored

    def needs_sealing(self, stored: str | None) -> bool:
        """Stored in clear, or under another key than the current one."""
        if stored is None or self._sealer is None:
            return False
        return not stored.startswith(f"{PREFIX}{self._sealer.current_key_id}:")


async def reseal_webhook_secrets(engine: Any, box: WebhookSecretBox) -> int:
    """Seal every webhook secret stored in clear or under an older key with the current
    key (the migration that introduced sealing, and `fusionxpay vault rekey`). Returns how
    many rows changed; does nothing without a configured key."""
    if not box.key_ids:
        return 0
    changed = 0
    async with engine.transaction() as transaction:
        connection = transaction.connection
        rows = await connection.fetch(
            "SELECT id, webhook_secret, previous_webhook_secret FROM merchants FOR UPDATE")
        for row in rows:
            if not (box.needs_sealing(row["webhook_secret"]) or box.needs_sealing(row["previous_webhook_secret"])):
                continue
            try:
                values = [box.seal(row["id"], box.open(row["id"], row[name]))
                          for name in ("webhook_secret", "previous_webhook_secret")]
            except (KeyError, ValueError, InvalidTag):  # sealed under a key no longer listed: left as it is
                logger.warning("webhook_secret_unreadable", merchant_id=str(row["id"]))
                continue
            await connection.execute(
                "UPDATE merchants SET webhook_secret = $2, previous_webhook_secret = $3 WHERE id = $1",
                row["id"], *values)
            changed += 1
    return changed

"""The vault's keys from settings: versioned AES keys and the fingerprint HMAC key."""

from __future__ import annotations

import base64
import hashlib
import os

import structlog

from app.adapters.vault.keyring import VaultKeyring
from config.settings import Settings

logger = structlog.get_logger("fusionxpay.vault")


def vault_keys(settings: Settings) -> tuple[dict[str, bytes], str]:
    """Versioned AES keys "v1:<b64>,v2:<b64>"; the last encrypts. Without configured keys
    (dev, tests) a process-local key is made up: fine for one process, not for several."""
    entries = [entry.partition(":") for entry in settings.vault.keys.split(",") if entry]
    if not entries:
        if settings.env == "prod":
            raise RuntimeError("FXP_VAULT__KEYS must be set in production")
        logger.warning("vault_key_generated", detail="no FXP_VAULT__KEYS; using a process-local key")
        entries = [("dev", ":", base64.b64encode(os.urandom(32)).decode())]
    return {key_id: base64.b64decode(value) for key_id, _, value in entries}, entries[-1][0]


def vault_keyring(settings: Settings) -> VaultKeyring:
    keys, current = vault_keys(settings)
    if settings.vault.fingerprint_key:
        fingerprint_key = base64.b64decode(settings.vault.fingerprint_key)
    elif settings.env == "prod":
        raise RuntimeError("FXP_VAULT__FINGERPRINT_KEY must be set in production")
    else:  # dev/tests: derived from the oldest key, so fingerprints survive adding keys
        fingerprint_key = hashlib.sha256(b"fusionxpay-fingerprint:" + next(iter(keys.values()))).digest()
    return VaultKeyring(keys, current, fingerprint_key)

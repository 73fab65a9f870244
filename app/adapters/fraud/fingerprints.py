"""Card fingerprints: HMAC-SHA256 of the card number under a secret key, so the same card
gives the same fingerprint in every process, and a fingerprint reveals nothing without
the key. A vaulted card token is fingerprinted by its token."""

from __future__ import annotations

import hashlib
import hmac

from app.adapters.vault.keys import vault_keys
from app.domain.model.card import CardDetails, CardToken
from config.settings import Settings


class HmacCardFingerprints:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def of(self, method: CardDetails | CardToken) -> str:
        subject = method.number if isinstance(method, CardDetails) else "token:" + method.token
        return hmac.new(self._key, subject.encode(), hashlib.sha256).hexdigest()[:32]


DEV_KEY = b"fusionxpay-dev-card-fingerprints"  # not secret: dev and test only


def fingerprint_key(settings: Settings) -> bytes:
    if settings.fraud.fingerprint_key:
        return settings.fraud.fingerprint_key.encode()
    if settings.env != "prod":
        return DEV_KEY
    keys, _ = vault_keys(settings)  # prod requires configured vault keys: stable across processes
    first = keys[sorted(keys)[0]]
    return hmac.new(first, b"card-fingerprints", hashlib.sha256).digest()

"""The vault's keys: AES-GCM under versioned keys ("v1:<b64>,v2:<b64>", the last one
seals, any listed one opens) and the HMAC key of card fingerprints."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.domain.model.saved_card import SealedNumber

NONCE_BYTES = 12


class VaultKeyring:
    def __init__(self, keys: dict[str, bytes], current_key_id: str, fingerprint_key: bytes) -> None:
        if current_key_id not in keys:
            raise ValueError(f"no vault key {current_key_id!r}")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._current = current_key_id
        self._fingerprint_key = fingerprint_key

    @property
    def current_key_id(self) -> str:
        return self._current

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    def seal(self, plaintext: bytes, context: bytes) -> SealedNumber:
        nonce = os.urandom(NONCE_BYTES)
        return SealedNumber(self._current, nonce + self._ciphers[self._current].encrypt(nonce, plaintext, context))

    def open(self, sealed: SealedNumber, context: bytes) -> bytes:
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise KeyError(f"vault key {sealed.key_id!r} is no longer configured")
        blob = sealed.ciphertext
        return cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context)

    def seal_text(self, plaintext: bytes, context: bytes) -> str:
        """Sealed as "<key id>:<base64>", for stores that keep strings (Redis)."""
        sealed = self.seal(plaintext, context)
        return f"{sealed.key_id}:{base64.b64encode(sealed.ciphertext).decode()}"

    def open_text(self, value: str | bytes, context: bytes) -> bytes:
        key_id, _, blob = (value.decode() if isinstance(value, bytes) else value).partition(":")
        return self.open(SealedNumber(key_id, base64.b64decode(blob)), context)

    def fingerprint(self, merchant_id: uuid.UUID, number: str) -> str:
        digest = hmac.new(self._fingerprint_key, merchant_id.bytes + number.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:18]).decode()

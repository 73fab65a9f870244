"""Card fingerprints for fraud rules: the card vault's own (a keyed HMAC of the number,
scoped to the merchant), so a saved card and the same card sent in full have one
fingerprint, the one GET /cards shows."""

from __future__ import annotations

import uuid

from app.domain.model.card import CardDetails, CardToken
from app.domain.ports_vault import CardSealer


class VaultCardFingerprints:
    def __init__(self, sealer: CardSealer) -> None:
        self._sealer = sealer

    def of(self, merchant_id: uuid.UUID, method: CardDetails | CardToken) -> str | None:
        if isinstance(method, CardDetails):
            return self._sealer.fingerprint(merchant_id, method.number)
        return method.fingerprint  # set from the saved card; None for other tokens

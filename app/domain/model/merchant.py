"""Merchants: who calls the API, where their webhooks go."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(eq=False, slots=True)
class Merchant:
    id: uuid.UUID
    name: str
    api_key_hash: str  # the secret key itself is shown once and never stored
    created_at: datetime
    webhook_url: str | None = None
    webhook_secret: str | None = None  # "whsec_..." (Standard Webhooks)
    webhook_enabled: bool = True

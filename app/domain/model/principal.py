"""Who is calling: the authenticated party of a request, whatever credential it used."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from app.domain.model.user import Role


class Credential(StrEnum):
    API_KEY = "api_key"  # a merchant's secret key: acts as the merchant
    JWT = "jwt"  # a user's access token
    ADMIN_KEY = "admin_key"  # the static operator key (bootstraps the first admin)


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    credential: Credential
    merchant_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None  # the refresh-token family a JWT belongs to

    @property
    def customer_id(self) -> uuid.UUID | None:
        """The shopper whose own data alone this caller may see; None for merchants/admins."""
        return self.user_id if self.role is Role.CUSTOMER else None

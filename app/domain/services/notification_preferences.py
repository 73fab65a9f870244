"""Who chooses which notices a shopper gets: a customer for itself; a merchant (its key or
its staff) for its guest customers, whose orders carry no user. Admins belong to no
merchant and have no preferences."""

from __future__ import annotations

import uuid

from app.domain.errors import Forbidden
from app.domain.model.notification import NotificationPreferences
from app.domain.model.principal import Principal
from app.domain.model.user import Role
from app.domain.ports_notifications import PreferenceStore


def _owner(principal: Principal) -> tuple[uuid.UUID, uuid.UUID | None]:
    if principal.merchant_id is None or principal.role is Role.ADMIN:
        raise Forbidden("notification preferences belong to a customer or a merchant", code="role_not_allowed")
    if principal.role is Role.CUSTOMER:
        assert principal.user_id is not None  # customers always come with a JWT naming them
        return principal.merchant_id, principal.user_id
    return principal.merchant_id, None  # the merchant's choice for guest checkouts


class NotificationPreferenceService:
    def __init__(self, store: PreferenceStore) -> None:
        self._store = store

    async def get(self, principal: Principal) -> NotificationPreferences:
        """The caller's preferences; the defaults (email only) until it chose."""
        merchant_id, user_id = _owner(principal)
        return await self._store.get(merchant_id, user_id) or NotificationPreferences()

    async def put(self, principal: Principal, preferences: NotificationPreferences) -> NotificationPreferences:
        merchant_id, user_id = _owner(principal)
        await self._store.put(merchant_id, user_id, preferences)
        return preferences

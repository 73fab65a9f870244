"""Notification preferences in PostgreSQL: one row per owner (a user, or a merchant for
its guest customers)."""

from __future__ import annotations

import json
import uuid

from piccolo.engine.postgres import PostgresEngine

from app.domain.model.notification import NotificationPreferences

GET_SQL = "SELECT channels, email, phone FROM notification_preferences WHERE owner_id = $1 AND merchant_id = $2"
PUT_SQL = """
INSERT INTO notification_preferences (owner_id, merchant_id, user_id, channels, email, phone)
VALUES ($1, $2, $3, $4::jsonb, $5, $6)
ON CONFLICT (owner_id) DO UPDATE SET channels = EXCLUDED.channels, email = EXCLUDED.email, phone = EXCLUDED.phone,
    updated_at = now()
WHERE notification_preferences.merchant_id = EXCLUDED.merchant_id
"""


class PiccoloPreferenceStore:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine

    async def get(self, merchant_id: uuid.UUID, user_id: uuid.UUID | None) -> NotificationPreferences | None:
        async with self._engine.transaction() as transaction:
            row = await transaction.connection.fetchrow(GET_SQL, user_id or merchant_id, merchant_id)
        if row is None:
            return None
        channels = json.loads(row["channels"]) if isinstance(row["channels"], str) else row["channels"]
        return NotificationPreferences.build(channels, row["email"], row["phone"])

    async def put(self, merchant_id: uuid.UUID, user_id: uuid.UUID | None,
                  preferences: NotificationPreferences) -> None:
        channels = {category.value: sorted(channel.value for channel in chosen)
                    for category, chosen in preferences.as_table().items()}
        async with self._engine.transaction() as transaction:
            await transaction.connection.execute(PUT_SQL, user_id or merchant_id, merchant_id, user_id,
                                                 json.dumps(channels), preferences.email, preferences.phone)

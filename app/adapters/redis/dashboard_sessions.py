"""Dashboard sessions in Redis: the browser holds a random id (an HttpOnly cookie), Redis
holds who it is and the session's CSRF token under a hash of that id, so a Redis dump holds
no usable cookie. Idle sessions expire (IDLE_TTL_S), every session after ABSOLUTE_TTL_S."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass

import redis.asyncio as redis_async

IDLE_TTL_S = 30 * 60
ABSOLUTE_TTL_S = 8 * 3600


@dataclass(frozen=True, slots=True)
class DashboardSession:
    operator: str  # the admin user's email, or "admin key"
    user_id: str | None
    family_id: str | None  # the login's refresh-token family: revoked -> the session ends
    csrf: str
    started: float


class RedisDashboardSessions:
    PREFIX = "fxp:dashboard-session:"

    def __init__(self, client: redis_async.Redis) -> None:
        self._client = client

    @classmethod
    def _key(cls, session_id: str) -> str:
        return cls.PREFIX + hashlib.sha256(session_id.encode()).hexdigest()

    async def start(self, operator: str, user_id: str | None, family_id: str | None) -> tuple[str, DashboardSession]:
        session_id = secrets.token_urlsafe(32)
        session = DashboardSession(operator, user_id, family_id, secrets.token_urlsafe(32), time.time())
        await self._client.set(self._key(session_id), json.dumps(asdict(session)), ex=IDLE_TTL_S)
        return session_id, session

    async def get(self, session_id: str) -> DashboardSession | None:
        """The session, its idle timer restarted; None when unknown or expired."""
        if not session_id or len(session_id) > 100:
            return None
        key = self._key(session_id)
        raw = await self._client.get(key)
        if raw is None:
            return None
        session = DashboardSession(**json.loads(raw))
        if time.time() - session.started > ABSOLUTE_TTL_S:
            await self._client.delete(key)
            return None
        await self._client.expire(key, IDLE_TTL_S)
        return session

    async def end(self, session_id: str) -> None:
        await self._client.delete(self._key(session_id))

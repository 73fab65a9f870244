"""Admin endpoints: dead letters (list, replay) and webhook resends. Thin: each calls one
port or use case. `Authorization: Bearer <FXP_ADMIN_API_KEY>`; with no key configured
the endpoints do not exist (404)."""

from __future__ import annotations

import hmac
import uuid
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import Dependency

from app.adapters.queue.dead_letters import DeadLetter, DeadLetterQueue
from app.domain.errors import Forbidden, NotFound
from app.domain.services.notifications import NotificationService
from app.entrypoints.http.auth import bearer_token
from app.entrypoints.http.dependencies import from_container
from app.entrypoints.http.problems import problem_responses


class DeadLetterList(msgspec.Struct):
    data: list[DeadLetter]
    count: int


class Replayed(msgspec.Struct):
    replayed: int


class ResendScheduled(msgspec.Struct):
    event_id: uuid.UUID
    status: str = "scheduled"


def admin_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    configured = connection.app.state.container.settings.api.admin_api_key
    if not configured:
        raise NotFound("not found")  # admin disabled: nothing here
    token = bearer_token(connection.headers.get("authorization"))  # 401 when missing
    if not hmac.compare_digest(token.encode(), configured.encode()):
        raise Forbidden("this key may not use the admin API")


ADMIN_ERRORS = problem_responses(400, 401, 403, 404)

# Service objects, not input: Litestar must not try to validate them.
DeadLetters = Annotated[DeadLetterQueue, Dependency(skip_validation=True)]
Notifications = Annotated[NotificationService, Dependency(skip_validation=True)]


class AdminController(Controller):
    path = "/admin"
    tags = ["admin"]
    guards = [admin_guard]
    dependencies = {"dead_letters": from_container("dead_letters"), "notifications": from_container("notifications")}

    @get("/dead-letters", responses=ADMIN_ERRORS, summary="Messages whose retries ran out")
    async def list_dead_letters(self, dead_letters: DeadLetters) -> DeadLetterList:
        letters = await dead_letters.list()
        return DeadLetterList(letters, len(letters))

    @post("/dead-letters/{message_id:str}/replay", responses=ADMIN_ERRORS, status_code=202,
          summary="Replay one dead letter")
    async def replay_dead_letter(self, message_id: str, dead_letters: DeadLetters) -> Replayed:
        if not await dead_letters.replay(message_id):
            raise NotFound(f"no dead letter {message_id}", resource="dead_letter", id=message_id)
        return Replayed(1)

    @post("/dead-letters/replay", responses=ADMIN_ERRORS, status_code=202, summary="Replay every dead letter")
    async def replay_all_dead_letters(self, dead_letters: DeadLetters) -> Replayed:
        return Replayed(await dead_letters.replay_all())

    @post("/webhooks/{event_id:uuid}/resend", responses=ADMIN_ERRORS, status_code=202,
          summary="Send one event's webhook again")
    async def resend_webhook(self, event_id: uuid.UUID, notifications: Notifications) -> ResendScheduled:
        await notifications.resend(event_id)
        return ResendScheduled(event_id)

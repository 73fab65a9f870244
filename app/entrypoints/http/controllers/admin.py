"""Admin endpoints: dead letters (list, replay) and webhook resends. Thin: each calls one
port or use case (the changes go through OperatorActions, which records them in the
audit trail). An admin user's JWT, or `Bearer <FXP_ADMIN_API_KEY>` (the static key
that bootstraps the first admin user; with none configured only admin JWTs get in)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import Provide
from litestar.params import Dependency

from app.adapters.queue.dead_letters import DeadLetter, DeadLetterQueue
from app.domain.services.operator_actions import OperatorActions
from app.entrypoints.http.access import ADMIN, authorize
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


ADMIN_ERRORS = problem_responses(400, 401, 403, 404, 503)
ADMIN_ONLY = ADMIN.route()

# Service objects, not input: Litestar must not try to validate them.
DeadLetters = Annotated[DeadLetterQueue, Dependency(skip_validation=True)]
Actions = Annotated[OperatorActions, Dependency(skip_validation=True)]


def operator_actions(request: Request[Any, Any, Any]) -> OperatorActions:
    """Built per request from the container's current parts (tests swap the dead letters)."""
    container = request.app.state.container
    return OperatorActions(container.uow, container.dead_letters, container.notifications)


class AdminController(Controller):
    path = "/admin"
    tags = ["admin"]
    guards = [authorize]  # also where the controller is mounted alone (the app applies it too)
    dependencies = {"dead_letters": from_container("dead_letters"),
                    "actions": Provide(operator_actions, sync_to_thread=False)}

    @get("/dead-letters", responses=ADMIN_ERRORS, **ADMIN_ONLY, summary="Messages whose retries ran out")
    async def list_dead_letters(self, dead_letters: DeadLetters) -> DeadLetterList:
        letters = await dead_letters.list()
        return DeadLetterList(letters, len(letters))

    @post("/dead-letters/{message_id:str}/replay", responses=ADMIN_ERRORS, **ADMIN_ONLY, status_code=202,
          summary="Replay one dead letter")
    async def replay_dead_letter(self, message_id: str, actions: Actions) -> Replayed:
        await actions.replay_dead_letter(message_id)
        return Replayed(1)

    @post("/dead-letters/replay", responses=ADMIN_ERRORS, **ADMIN_ONLY, status_code=202, summary="Replay every dead letter")
    async def replay_all_dead_letters(self, actions: Actions) -> Replayed:
        return Replayed(await actions.replay_all_dead_letters())

    @post("/webhooks/{event_id:uuid}/resend", responses={**ADMIN_ERRORS, **problem_responses(409)},
          **ADMIN_ONLY, status_code=202, summary="Send one event's webhook again")
    async def resend_webhook(self, event_id: uuid.UUID, actions: Actions) -> ResendScheduled:
        await actions.resend_webhook(event_id)
        return ResendScheduled(event_id)

"""Operator actions outside the aggregates: replaying dead letters and resending a
merchant webhook. Each is an `admin_action` audit record in a unit of work around the
action: a resend's schedule change commits with its record (one transaction); a replay
moves messages in the broker, so its record commits right after the broker did it. A
refused action (unknown letter, disabled endpoint) is recorded as failed."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from app.domain.errors import NotFound
from app.domain.model.audit import AuditLog, AuditType
from app.domain.ports import UnitOfWorkFactory
from app.domain.services.notifications import NotificationService

# Message arguments that name an entity: recorded with the replay (key without "_id").
ID_ARGUMENTS = ("event_id", "delivery_id", "attempt_id", "refund_id", "order_id", "payment_id")


class Letter(Protocol):
    """A dead letter as the queue describes it."""

    @property
    def message_id(self) -> str: ...

    @property
    def queue(self) -> str: ...

    @property
    def actor(self) -> str: ...

    @property
    def kwargs(self) -> Mapping[str, Any]: ...


class DeadLetters(Protocol):
    async def replay_letters(self, message_id: str | None) -> Sequence[Letter]:
        """Replay one dead letter (or all when None); the ones replayed."""


class OperatorActions:
    def __init__(self, uow: UnitOfWorkFactory, dead_letters: DeadLetters, webhooks: NotificationService) -> None:
        self._uow, self._dead_letters, self._webhooks = uow, dead_letters, webhooks

    async def replay_dead_letter(self, message_id: str) -> None:
        async with self._uow() as uow:
            audit = uow.audit.record(AuditType.ADMIN_ACTION, action="dead_letter_replay", message=message_id)
            replayed = await self._dead_letters.replay_letters(message_id)
            if not replayed:
                raise NotFound(f"no dead letter {message_id}", resource="dead_letter", id=message_id)
            audit.add(**_entities(replayed[0]))
            await uow.commit()

    async def replay_all_dead_letters(self) -> int:
        async with self._uow() as uow:
            audit = uow.audit.record(AuditType.ADMIN_ACTION, action="dead_letter_replay_all")
            replayed = await self._dead_letters.replay_letters(None)
            audit.add(replayed=len(replayed))
            _each(uow.audit, replayed)
            await uow.commit()
        return len(replayed)

    async def resend_webhook(self, event_id: uuid.UUID) -> None:
        async with self._uow() as uow:
            audit = uow.audit.record(AuditType.ADMIN_ACTION, action="webhook_resend", event=event_id)
            audit.add(merchant=await self._webhooks.resend(event_id))  # its schedule joins this transaction
            await uow.commit()


def _entities(letter: Letter) -> dict[str, str]:
    ids = {name.removesuffix("_id"): letter.kwargs.get(name) for name in ID_ARGUMENTS}
    return {"message": letter.message_id, "queue": letter.queue, "task": letter.actor,
            **{kind: value for kind, value in ids.items() if isinstance(value, str)}}


def _each(log: AuditLog, letters: Sequence[Letter]) -> None:
    """One record per replayed message too, so a search by its entity finds the replay."""
    for letter in letters:
        log.record(AuditType.ADMIN_ACTION, action="dead_letter_replay").add(**_entities(letter))

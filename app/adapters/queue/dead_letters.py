"""Dead letters: messages whose retries ran out, kept by the broker (Redis:
`<namespace>:<queue>.XQ` + `.XQ.msgs`; RabbitMQ: `<queue>.XQ`; StubBroker: in memory).
Admins list and replay them; a replay is the same message id and arguments with a fresh
retry budget. Replays enqueue first and remove after: at worst a message runs twice,
which every actor tolerates, and nothing is lost."""

from __future__ import annotations

import asyncio
import builtins
from datetime import UTC, datetime
from typing import Any, Protocol

import msgspec
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import current_millis, q_name

# Per-delivery bookkeeping that must not follow a replayed message.
_DROPPED_OPTIONS = {"retries", "traceback", "redis_message_id", "eta", "requeue_timestamp"}


class DeadLetter(msgspec.Struct, frozen=True):
    message_id: str
    queue: str
    actor: str
    args: list[Any]
    kwargs: dict[str, Any]
    retries: int
    failure: str | None  # the last line of the final traceback, when the broker kept it
    queued_at: datetime
    dead_at: datetime | None = None


def _at(millis: float | None) -> datetime | None:
    return datetime.fromtimestamp(millis / 1000, UTC) if millis else None


def describe(message: Message, dead_at_ms: float | None = None) -> DeadLetter:
    traceback = message.options.get("traceback") or ""
    lines = [line for line in traceback.strip().splitlines() if line.strip()]
    return DeadLetter(message.message_id, q_name(message.queue_name), message.actor_name, list(message.args),
                      dict(message.kwargs), message.options.get("retries", 0), lines[-1] if lines else None,
                      datetime.fromtimestamp(message.message_timestamp / 1000, UTC), _at(dead_at_ms))


def replayable(message: Message) -> Message:
    options = {k: v for k, v in message.options.items() if k not in _DROPPED_OPTIONS}
    options["replays"] = options.get("replays", 0) + 1
    # A fresh timestamp: the age limit counts from the replay, not the first send.
    return Message(queue_name=q_name(message.queue_name), actor_name=message.actor_name, args=message.args,
                   kwargs=message.kwargs, options=options, message_id=message.message_id,
                   message_timestamp=current_millis())


class DeadLetterBackend(Protocol):
    def list(self) -> list[DeadLetter]: ...

    def replay(self, message_id: str | None) -> int:
        """Replay one message (or all when None); how many were replayed."""


class StubDeadLetters:
    def __init__(self, broker: StubBroker) -> None:
        self._broker = broker

    def list(self) -> list[DeadLetter]:
        return [describe(proxy._message) for proxies in self._broker.dead_letters_by_queue.values()
                for proxy in proxies]

    def replay(self, message_id: str | None) -> int:
        replayed = 0
        for proxies in self._broker.dead_letters_by_queue.values():
            for proxy in [p for p in proxies if message_id in (None, p.message_id)]:
                self._broker.enqueue(replayable(proxy._message))
                proxies.remove(proxy)
                replayed += 1
        return replayed


class RedisDeadLetters:
    def __init__(self, broker: RedisBroker) -> None:
        self._broker = broker

    def _entries(self) -> list[tuple[str, str, float, Message]]:
        client, namespace, found = self._broker.client, self._broker.namespace, []
        for queue in sorted(self._broker.get_declared_queues()):
            xq = f"{namespace}:{queue}.XQ"
            ids_and_scores = client.zrange(xq, 0, -1, withscores=True)
            if not ids_and_scores:
                continue
            bodies = client.hmget(f"{xq}.msgs", [redis_id for redis_id, _ in ids_and_scores])
            found += [(xq, redis_id.decode(), score, Message.decode(body))
                      for (redis_id, score), body in zip(ids_and_scores, bodies) if body is not None]
        return found

    def list(self) -> list[DeadLetter]:
        return [describe(message, dead_at) for _, _, dead_at, message in self._entries()]

    def replay(self, message_id: str | None) -> int:
        replayed = 0
        for xq, redis_id, _, message in self._entries():
            if message_id in (None, message.message_id):
                self._broker.enqueue(replayable(message))
                self._broker.client.pipeline().zrem(xq, redis_id).hdel(f"{xq}.msgs", redis_id).execute()
                replayed += 1
        return replayed


class DeadLetterQueue:
    """The admin port over whichever broker holds the dead letters."""

    def __init__(self, backend: DeadLetterBackend) -> None:
        self._backend = backend

    async def list(self) -> list[DeadLetter]:
        letters = await asyncio.to_thread(self._backend.list)
        return sorted(letters, key=lambda letter: letter.dead_at or letter.queued_at, reverse=True)

    async def replay(self, message_id: str) -> bool:
        return await asyncio.to_thread(self._backend.replay, message_id) > 0

    async def replay_all(self) -> int:
        return await asyncio.to_thread(self._backend.replay, None)

    async def replay_letters(self, message_id: str | None) -> builtins.list[DeadLetter]:
        """Replay one (or, None, every) dead letter; the ones replayed, as they were
        described just before (what the operator's audit record names)."""
        letters = [letter for letter in await asyncio.to_thread(self._backend.list)
                   if message_id in (None, letter.message_id)]
        if not letters:
            return []
        replayed = await asyncio.to_thread(self._backend.replay, message_id)
        # One: it was replayed or not. All: those gone meanwhile (another replay) are not ours.
        return letters[:replayed]

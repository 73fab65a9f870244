"""In-memory fakes of the shopper notification ports (app/domain/ports_notifications.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.domain.model.notification import NotificationPreferences, PlannedDelivery
from app.domain.ports_notifications import Delivery, NotificationOutcome, RenderedMessage, SendResult


@dataclass
class Job:
    planned: PlannedDelivery
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    status: str = "pending"
    attempt: int = 1
    due_in_s: float = 0.0
    lease: str | None = None
    attempts: list[tuple[int, str, str | None]] = field(default_factory=list)  # (attempt, outcome, error)
    sending: tuple[datetime, str] | None = None  # a send began and was not settled: (since, digest)


class InMemoryNotificationJobs:
    """Jobs keyed by (event, channel, recipient); `plans` maps an event id to what planning
    would make of it (tests set it)."""

    def __init__(self) -> None:
        self.plans: dict[uuid.UUID, list[PlannedDelivery]] = {}
        self.jobs: dict[uuid.UUID, Job] = {}

    def _by_key(self, planned: PlannedDelivery) -> Job | None:
        return next((job for job in self.jobs.values() if (job.planned.event_id, job.planned.channel,
                                                            job.planned.recipient)
                     == (planned.event_id, planned.channel, planned.recipient)), None)

    async def plan(self, event_id: uuid.UUID) -> list[uuid.UUID]:
        for planned in self.plans.get(event_id, []):
            if self._by_key(planned) is None:
                job = Job(planned)
                self.jobs[job.id] = job
        return [job.id for job in self.jobs.values() if job.planned.event_id == event_id and job.status == "pending"]

    async def claim(self, delivery_id: uuid.UUID, lease: str | None) -> Delivery | None:
        job = self.jobs.get(delivery_id)
        if job is None or job.status != "pending":
            return None
        if (lease is not None and job.lease != lease) or (lease is None and (job.lease or job.due_in_s > 0)):
            return None
        job.lease = str(uuid.uuid4())
        p = job.planned
        since, digest = job.sending or (None, None)
        return Delivery(job.id, p.event_id, p.merchant_id, p.order_id, p.category, p.channel, p.recipient,
                        job.attempt, job.lease, since, digest)

    async def begin_send(self, delivery: Delivery, digest: str) -> bool:
        job = self.jobs[delivery.id]
        if job.status != "pending" or job.lease != delivery.lease_token:
            return False
        job.sending = (datetime.now(UTC), digest)
        return True

    def crash(self, delivery_id: uuid.UUID) -> None:
        """The sender died holding the delivery: its lease runs out, the send stays unsettled."""
        self.jobs[delivery_id].lease = None

    async def settle(self, delivery: Delivery, result: SendResult, outcome: NotificationOutcome,
                     delay_s: float | None = None, keep_doubt: bool = False) -> None:
        job = self.jobs[delivery.id]
        job.attempts.append((delivery.attempt, outcome.value, result.error))
        if job.lease != delivery.lease_token:
            return
        job.lease = None
        if not keep_doubt:
            job.sending = None
        if outcome is NotificationOutcome.RETRY_SCHEDULED:
            job.attempt, job.due_in_s = job.attempt + 1, float(delay_s or 0.0)
        else:
            job.status = "delivered" if outcome is NotificationOutcome.DELIVERED else "dead"

    async def reopen(self, delivery_id: uuid.UUID) -> None:
        job = self.jobs[delivery_id]
        if job.status == "dead":
            job.status, job.attempt, job.due_in_s, job.lease, job.sending = "pending", 1, 0.0, None, None

    def make_due(self) -> None:
        """Time passes: every scheduled retry is due."""
        for job in self.jobs.values():
            job.due_in_s = 0.0


class RecordingRetries:
    def __init__(self) -> None:
        self.scheduled: list[tuple[uuid.UUID, float]] = []

    async def schedule(self, delivery_id: uuid.UUID, delay_s: float) -> None:
        self.scheduled.append((delivery_id, delay_s))


class ScriptedSender:
    """Answers with `results` in turn (the last one repeats); keeps what it was asked to send."""

    def __init__(self, *results: SendResult) -> None:
        self.results = list(results) or [SendResult(True, 1, provider_message_id="ok")]
        self.sent: list[tuple[str, RenderedMessage, str]] = []

    async def send(self, recipient: str, message: RenderedMessage, message_key: str) -> SendResult:
        self.sent.append((recipient, message, message_key))
        return self.results.pop(0) if len(self.results) > 1 else self.results[0]


class StaticFacts:
    def __init__(self, facts: dict[str, Any] | None) -> None:
        self._facts = facts

    async def facts(self, delivery: Delivery) -> dict[str, Any] | None:
        return self._facts


class InMemoryPreferenceStore:
    def __init__(self) -> None:
        self.rows: dict[tuple[uuid.UUID, uuid.UUID | None], NotificationPreferences] = {}

    async def get(self, merchant_id: uuid.UUID, user_id: uuid.UUID | None) -> NotificationPreferences | None:
        return self.rows.get((merchant_id, user_id))

    async def put(self, merchant_id: uuid.UUID, user_id: uuid.UUID | None,
                  preferences: NotificationPreferences) -> None:
        self.rows[(merchant_id, user_id)] = preferences


class LookupSender(ScriptedSender):
    """A transport whose provider can be asked what it holds (a Twilio-shaped list): what it
    accepted is kept by digest; `lookup_fails` makes the look-up itself fail."""

    def __init__(self, *results: SendResult) -> None:
        super().__init__(*results)
        self.held: dict[str, str] = {}  # digest -> provider id
        self.lookups = 0
        self.lookup_fails = False

    def digest(self, recipient: str, message: RenderedMessage) -> str:
        return f"{recipient}|{message.text}"

    async def send(self, recipient: str, message: RenderedMessage, message_key: str) -> SendResult:
        result = await super().send(recipient, message, message_key)
        if result.ok or result.unknown:  # accepted (an unknown answer: it got there, we never heard)
            self.held[self.digest(recipient, message)] = f"SM{len(self.held)}"
        return result

    async def find(self, recipient: str, digest: str, since: datetime) -> SendResult | None:
        self.lookups += 1
        if self.lookup_fails:
            return SendResult(False, 1, error="look-up: HTTP 503")
        sid = self.held.get(digest)
        return SendResult(True, 1, provider_message_id=sid) if sid else None

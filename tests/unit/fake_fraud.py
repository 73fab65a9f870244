"""In-memory fakes of the fraud ports."""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta

from app.domain.model.card import CardDetails, CardToken
from app.domain.model.fraud import FraudRule
from app.domain.model.fraud_evaluation import FraudDecision


class InMemoryFraudRuleStore:
    def __init__(self) -> None:
        self.sets: dict[uuid.UUID, list[FraudRule]] = {}

    async def get(self, merchant_id: uuid.UUID) -> list[FraudRule]:
        return list(self.sets.get(merchant_id, []))

    async def replace(self, merchant_id: uuid.UUID, rules: list[FraudRule]) -> None:
        self.sets[merchant_id] = list(rules)


class InMemoryVelocityCounter:
    """Hits per (merchant, subject, value), as timestamps; counts within each window."""

    def __init__(self) -> None:
        self.hits: dict[tuple[uuid.UUID, str, str], list[tuple[datetime, str]]] = defaultdict(list)

    async def hit(self, merchant_id: uuid.UUID, subjects: Mapping[str, tuple[str, frozenset[int]]],
                  member: str, now: datetime) -> dict[tuple[str, int], int]:
        counts: dict[tuple[str, int], int] = {}
        for subject, (value, windows) in subjects.items():
            hits = self.hits[(merchant_id, subject, value)]
            hits.append((now, member))
            for window in windows:
                counts[(subject, window)] = sum(1 for at, _ in hits if at > now - timedelta(seconds=window))
        return counts


class FakeCardFingerprints:
    def of(self, merchant_id: uuid.UUID, method: CardDetails | CardToken) -> str | None:
        if isinstance(method, CardToken):
            return method.fingerprint
        return hashlib.sha256(merchant_id.bytes + method.number.encode()).hexdigest()[:32]


class RecordingFraudMetrics:
    def __init__(self) -> None:
        self.decisions: list[FraudDecision] = []

    def decided(self, decision: FraudDecision) -> None:
        self.decisions.append(decision)

"""Fraud screening before dispatch, and the merchants' rule sets (admin API)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from app.domain.model.audit import AuditType
from app.domain.errors import NotFound
from app.domain.model.card import CardDetails, PaymentMethod
from app.domain.model.fraud import FraudRule, checked_rules
from app.domain.model.fraud_evaluation import (
    ALLOWED, FraudContext, FraudDecision, FraudSignals, evaluate, failure_windows, velocity_needs,
)
from app.domain.model.order import Order
from app.domain.model.payment import PaymentAttempt
from app.domain.ports import (
    CardFingerprints, FraudDecisionMetrics, FraudRuleStore, UnitOfWork, UnitOfWorkFactory, VelocityCounter,
)


def customer_key(order: Order) -> str | None:
    """Who the shopper is, as far as an order tells: their email, else their phone."""
    email = (order.customer.email or "").strip().lower()
    return email or (order.customer.phone or "").strip() or None


class FraudScreen:
    """Runs the merchant's rules over a new attempt, in the request's transaction: the
    decision is stored with the attempt, before anything reaches a provider."""

    def __init__(self, rules: FraudRuleStore, counter: VelocityCounter, fingerprints: CardFingerprints,
                 metrics: FraudDecisionMetrics | None = None, enabled: bool = True) -> None:
        self._rules, self._counter, self._fingerprints = rules, counter, fingerprints
        self._metrics, self.enabled = metrics, enabled

    def fingerprint(self, merchant_id: uuid.UUID, method: PaymentMethod) -> str | None:
        return self._fingerprints.of(merchant_id, method) if method is not None else None

    async def screen(self, uow: UnitOfWork, order: Order, attempt: PaymentAttempt, method: PaymentMethod,
                     client_ip: str | None, now: datetime) -> FraudDecision | None:
        """The verdict; None when screening is switched off (nothing is recorded then)."""
        if not self.enabled:
            return None
        rules = await self._rules.get(order.merchant_id)
        if not rules:
            return ALLOWED
        email = (order.customer.email or "").strip().lower() or None
        context = FraudContext(order.merchant_id, attempt.amount, attempt.card_fingerprint,
                               method.number[:6] if isinstance(method, CardDetails) else None,
                               client_ip, customer_key(order), email)
        signals = FraudSignals(await self._velocity(rules, context, attempt, now),
                               await self._failures(uow, rules, context, now))
        decision = evaluate(rules, context, signals)
        if self._metrics is not None:
            self._metrics.decided(decision)
        return decision

    async def _velocity(self, rules: list[FraudRule], context: FraudContext, attempt: PaymentAttempt,
                        now: datetime) -> dict[tuple[str, int], int]:
        subjects: dict[str, tuple[str, frozenset[int]]] = {subject: (value, frozenset(windows)) for subject, windows in velocity_needs(rules).items()
                    if (value := context.subject(subject)) is not None}
        if not subjects:
            return {}
        return await self._counter.hit(context.merchant_id, subjects, str(attempt.id), now)

    async def _failures(self, uow: UnitOfWork, rules: list[FraudRule], context: FraudContext,
                        now: datetime) -> dict[int, int]:
        if context.card_fingerprint is None:
            return {}
        return {window: await uow.payments.card_failures(context.merchant_id, context.card_fingerprint,
                                                         now - timedelta(seconds=window))
                for window in failure_windows(rules)}


class FraudRuleService:
    """The admin's view of a merchant's rules: read, or replace the whole set."""

    def __init__(self, uow: UnitOfWorkFactory, rules: FraudRuleStore) -> None:
        self._uow, self._rules = uow, rules

    async def get(self, merchant_id: uuid.UUID) -> list[FraudRule]:
        await self._merchant_exists(merchant_id)
        return await self._rules.get(merchant_id)

    async def replace(self, merchant_id: uuid.UUID, rules: list[FraudRule]) -> list[FraudRule]:
        """Checked as a whole first: a set with one bad rule changes nothing."""
        async with self._uow() as uow:
            uow.audit.record(AuditType.ADMIN_ACTION, action="fraud_rules_replace", merchant=merchant_id)
            ordered = checked_rules(rules)  # inside: a refused set is recorded as a failed attempt
            if await uow.merchants.get(merchant_id) is None:
                raise NotFound(f"merchant {merchant_id} not found", resource="merchant", id=str(merchant_id))
            # The store's transaction nests in this unit's (one database transaction): the
            # rules and their record commit together.
            await self._rules.replace(merchant_id, ordered)
            await uow.commit()
        return ordered

    async def _merchant_exists(self, merchant_id: uuid.UUID) -> None:
        async with self._uow() as uow:
            if await uow.merchants.get(merchant_id) is None:
                raise NotFound(f"merchant {merchant_id} not found", resource="merchant", id=str(merchant_id))

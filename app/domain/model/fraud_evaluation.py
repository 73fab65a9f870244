"""Evaluating a merchant's fraud rules: a pure function of the rules, what is known about
the payment (FraudContext) and the counts gathered for it (FraudSignals).

Order: rules run by ascending `priority` (ties in the order given); the first rule
that matches decides the action. The risk score is the highest `risk` of every rule
that matches (0 when none does), and the reasons list every match, so a payment
allowed by an early allow-list rule still shows what else it tripped."""

from __future__ import annotations

import ipaddress
import uuid
from dataclasses import dataclass, field

from app.domain.model.fraud import (
    AmountLimit, BlockList, CardFailures, Condition, FraudAction, FraudRule, Velocity, VelocitySubject,
)
from app.domain.model.money import Money


@dataclass(frozen=True, slots=True)
class FraudContext:
    merchant_id: uuid.UUID
    amount: Money
    card_fingerprint: str | None = None
    bin: str | None = None
    ip: str | None = None
    customer: str | None = None
    email: str | None = None

    def subject(self, subject: VelocitySubject) -> str | None:
        """The value a velocity rule on `subject` counts attempts of."""
        return {"card": self.card_fingerprint, "customer": self.customer, "ip": self.ip,
                "email": self.email}[subject]

    @property
    def email_domain(self) -> str | None:
        return self.email.rpartition("@")[2].lower() if self.email and "@" in self.email else None


@dataclass(frozen=True, slots=True)
class FraudSignals:
    """Counts that include this attempt: velocity[(subject, window_s)] attempts, and
    card_failures[window_s] failed attempts of the card before it."""

    velocity: dict[tuple[str, int], int] = field(default_factory=dict)
    card_failures: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FraudDecision:
    action: FraudAction
    rule_id: str | None
    score: int
    reasons: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return self.action is FraudAction.ALLOW


ALLOWED = FraudDecision(FraudAction.ALLOW, None, 0, ())


def velocity_needs(rules: list[FraudRule]) -> dict[VelocitySubject, set[int]]:
    """The windows each velocity subject is counted over: nothing is counted for a
    subject no rule looks at."""
    needs: dict[VelocitySubject, set[int]] = {}
    for rule in rules:
        if isinstance(rule.condition, Velocity):
            needs.setdefault(rule.condition.subject, set()).add(rule.condition.window_s)
    return needs


def failure_windows(rules: list[FraudRule]) -> set[int]:
    return {rule.condition.window_s for rule in rules if isinstance(rule.condition, CardFailures)}


def _in_list(condition: BlockList, context: FraudContext) -> str | None:
    if condition.kind == "ip":
        if context.ip is None:
            return None
        try:
            address = ipaddress.ip_address(context.ip)
        except ValueError:
            return None
        hit = next((v for v in condition.values if address in ipaddress.ip_network(v, strict=False)), None)
        return f"ip {context.ip} is in block list entry {hit}" if hit else None
    value = {"card_fingerprint": context.card_fingerprint, "bin": context.bin,
             "email_domain": context.email_domain}[condition.kind]
    return f"{condition.kind} {value} is on the block list" if value and value in condition.values else None


def reason_for(condition: Condition, context: FraudContext, signals: FraudSignals) -> str | None:
    """Why `condition` matches this payment, or None when it does not."""
    if isinstance(condition, AmountLimit):
        over = context.amount.currency == condition.currency and context.amount.amount_minor > condition.max_amount_minor
        return (f"amount {context.amount.amount_minor} {condition.currency} is above "
                f"{condition.max_amount_minor}") if over else None
    if isinstance(condition, Velocity):
        if context.subject(condition.subject) is None:
            return None
        count = signals.velocity.get((condition.subject, condition.window_s), 0)
        return (f"{count} attempts by this {condition.subject} in {condition.window_s}s "
                f"(limit {condition.max_attempts})") if count > condition.max_attempts else None
    if isinstance(condition, CardFailures):
        failures = signals.card_failures.get(condition.window_s, 0)
        return (f"{failures} failed attempts with this card in {condition.window_s}s"
                if context.card_fingerprint and failures >= condition.max_failures else None)
    return _in_list(condition, context)


def evaluate(rules: list[FraudRule], context: FraudContext, signals: FraudSignals) -> FraudDecision:
    """`rules` in evaluation order (checked_rules): the first match decides."""
    first: FraudRule | None = None
    score, reasons = 0, []
    for rule in rules:
        reason = reason_for(rule.condition, context, signals)
        if reason is None:
            continue
        first = first or rule
        score = max(score, rule.risk)
        reasons.append(f"{rule.id}: {reason}")
    if first is None:
        return ALLOWED
    return FraudDecision(first.action, first.id, score, tuple(reasons))

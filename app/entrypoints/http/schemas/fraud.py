"""Fraud rule and review schemas (admin API). Conditions are tagged by `type`; ranges a
rule must respect (windows, CIDRs, BINs) are checked by the domain (422 with a code)."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from app.domain.model import fraud
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.entrypoints.http.schemas import patterns
from app.entrypoints.http.schemas.orders import Currency
from app.entrypoints.http.schemas.payments import FraudVerdict

RuleId = Annotated[str, Meta(pattern=patterns.whole(r"[A-Za-z0-9_.\-]{1,64}"), examples=["big-usd"])]
ListValue = Annotated[str, Meta(min_length=1, max_length=255, pattern=patterns.NO_NUL)]


class AmountLimitIn(msgspec.Struct, tag="amount_limit", tag_field="type", forbid_unknown_fields=True):
    currency: Currency
    max_amount: Annotated[int, Meta(ge=0, le=10**15, description="minor units; above it the rule matches")]


class VelocityIn(msgspec.Struct, tag="velocity", tag_field="type", forbid_unknown_fields=True):
    subject: Literal["card", "customer", "ip", "email"]
    max_attempts: Annotated[int, Meta(le=10**6)]
    window_s: Annotated[int, Meta(le=10**9, description="1 s to 30 days")]


class CardFailuresIn(msgspec.Struct, tag="card_failures", tag_field="type", forbid_unknown_fields=True):
    max_failures: Annotated[int, Meta(le=10**6)]
    window_s: Annotated[int, Meta(le=10**9, description="1 s to 30 days")]


class BlockListIn(msgspec.Struct, tag="block_list", tag_field="type", forbid_unknown_fields=True):
    list: Literal["card_fingerprint", "bin", "ip", "email_domain"]
    values: Annotated[builtins.list[ListValue], Meta(max_length=fraud.MAX_LIST_VALUES)]


ConditionIn = AmountLimitIn | VelocityIn | CardFailuresIn | BlockListIn


class FraudRule(msgspec.Struct, forbid_unknown_fields=True):
    id: RuleId
    action: fraud.FraudAction
    condition: ConditionIn
    priority: Annotated[int, Meta(ge=0, le=1_000_000, description="lower runs first")] = 100
    score: Annotated[int, Meta(ge=0, le=100)] | None = None

    def to_domain(self) -> fraud.FraudRule:
        c = self.condition
        condition: fraud.Condition
        if isinstance(c, AmountLimitIn):
            condition = fraud.AmountLimit(str(c.currency.value), c.max_amount)
        elif isinstance(c, VelocityIn):
            condition = fraud.Velocity(c.subject, c.max_attempts, c.window_s)
        elif isinstance(c, CardFailuresIn):
            condition = fraud.CardFailures(c.max_failures, c.window_s)
        else:
            condition = fraud.BlockList(c.list, tuple(c.values))
        return fraud.FraudRule(self.id, self.priority, self.action, condition, self.score)

    @classmethod
    def from_domain(cls, rule: fraud.FraudRule) -> FraudRule:
        c = rule.condition
        condition: ConditionIn
        if isinstance(c, fraud.AmountLimit):
            condition = AmountLimitIn(msgspec.convert(c.currency, Currency), c.max_amount_minor)
        elif isinstance(c, fraud.Velocity):
            condition = VelocityIn(c.subject, c.max_attempts, c.window_s)
        elif isinstance(c, fraud.CardFailures):
            condition = CardFailuresIn(c.max_failures, c.window_s)
        else:
            condition = BlockListIn(c.kind, list(c.values))
        return cls(rule.id, rule.action, condition, rule.priority, rule.score)


class FraudRuleSetUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """The whole set: it replaces the merchant's rules, or (one bad rule) changes nothing."""

    rules: Annotated[list[FraudRule], Meta(max_length=fraud.MAX_RULES)]


class FraudRuleSet(msgspec.Struct):
    merchant_id: uuid.UUID
    rules: list[FraudRule]  # in evaluation order

    @classmethod
    def from_domain(cls, merchant_id: uuid.UUID, rules: list[fraud.FraudRule]) -> FraudRuleSet:
        return cls(merchant_id, [FraudRule.from_domain(rule) for rule in rules])


class Review(msgspec.Struct):
    payment_id: uuid.UUID
    order_id: uuid.UUID
    merchant_id: uuid.UUID
    status: AttemptStatus
    amount: int
    currency: str
    fraud: FraudVerdict | None
    failure_code: str | None
    held_at: datetime

    @classmethod
    def from_domain(cls, a: PaymentAttempt) -> Review:
        return cls(a.id, a.order_id, a.merchant_id, a.status, a.amount.amount_minor, a.amount.currency,
                   FraudVerdict.from_domain(a.fraud), a.failure_code, a.updated_at)


class ReviewList(msgspec.Struct):
    data: list[Review]
    count: int

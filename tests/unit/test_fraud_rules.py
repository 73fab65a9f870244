"""Fraud rules: checked as a whole, evaluated first-match-wins by priority (pure)."""

from __future__ import annotations

import uuid

import pytest

from app.domain.errors import ValidationFailed
from app.domain.model.fraud import (
    AmountLimit, BlockList, CardFailures, FraudAction, FraudRule, Velocity, checked_rules,
)
from app.domain.model.fraud_evaluation import FraudContext, FraudSignals, evaluate
from app.domain.model.money import Money

A, R, B = FraudAction.ALLOW, FraudAction.REVIEW, FraudAction.BLOCK
CTX = FraudContext(uuid.uuid4(), Money.of(50_000, "USD"), "ab" * 16, "424242", "203.0.113.7", "ada@example.com",
                   "ada@example.com")


def test_no_rule_matches_allows_with_score_zero():
    decision = evaluate(checked_rules([FraudRule("big", 1, B, AmountLimit("USD", 100_000))]), CTX, FraudSignals())
    assert (decision.action, decision.rule_id, decision.score, decision.reasons) == (A, None, 0, ())


def test_first_match_by_priority_decides_and_every_match_is_a_reason():
    rules = checked_rules([
        FraudRule("block-big", 20, B, AmountLimit("USD", 10_000)),
        FraudRule("trusted-bin", 10, A, BlockList("bin", ("424242",)), score=5),
        FraudRule("review-big", 30, R, AmountLimit("USD", 1_000)),
    ])
    decision = evaluate(rules, CTX, FraudSignals())
    assert decision.action is A and decision.rule_id == "trusted-bin"
    assert decision.score == 100  # the highest risk among the matches (block-big)
    assert [reason.split(":")[0] for reason in decision.reasons] == ["trusted-bin", "block-big", "review-big"]


def test_ties_keep_the_order_given():
    rules = checked_rules([FraudRule("a", 5, R, AmountLimit("USD", 1)), FraudRule("b", 5, B, AmountLimit("USD", 1))])
    assert evaluate(rules, CTX, FraudSignals()).rule_id == "a"


def test_amount_limit_is_per_currency():
    rules = checked_rules([FraudRule("eur", 1, B, AmountLimit("EUR", 1))])
    assert evaluate(rules, CTX, FraudSignals()).action is A


@pytest.mark.parametrize(("count", "action"), [(3, A), (4, R)])
def test_velocity_matches_past_max_attempts(count, action):
    rules = checked_rules([FraudRule("ip-burst", 1, R, Velocity("ip", 3, 60))])
    assert evaluate(rules, CTX, FraudSignals({("ip", 60): count})).action is action


def test_card_failures_and_block_lists():
    failures = checked_rules([FraudRule("failing-card", 1, B, CardFailures(3, 3600))])
    assert evaluate(failures, CTX, FraudSignals(card_failures={3600: 3})).action is B
    assert evaluate(failures, CTX, FraudSignals(card_failures={3600: 2})).action is A
    for kind, value in [("ip", "203.0.113.0/24"), ("email_domain", "example.com"), ("card_fingerprint", "ab" * 16),
                        ("bin", "424242")]:
        listed = checked_rules([FraudRule("listed", 1, B, BlockList(kind, (value,)))])  # type: ignore[arg-type]
        assert evaluate(listed, CTX, FraudSignals()).action is B, kind
    other = checked_rules([FraudRule("v6", 1, B, BlockList("ip", ("2001:db8::/32",)))])
    assert evaluate(other, CTX, FraudSignals()).action is A


@pytest.mark.parametrize(("rule", "code"), [
    (FraudRule("w", 1, B, Velocity("ip", 3, 0)), "invalid_fraud_window"),
    (FraudRule("w", 1, B, CardFailures(3, 31 * 86_400)), "invalid_fraud_window"),
    (FraudRule("c", 1, B, BlockList("ip", ("10.0.0.0/33",))), "invalid_cidr"),
    (FraudRule("b", 1, B, BlockList("bin", ("4242",))), "invalid_bin"),
    (FraudRule("d", 1, B, BlockList("email_domain", ("not a domain",))), "invalid_email_domain"),
    (FraudRule("x", 1, B, AmountLimit("XXX", 1)), "unknown_currency"),
    (FraudRule("s", 1, B, AmountLimit("USD", 1), score=101), "invalid_fraud_rule"),
])
def test_bad_rules_are_refused_with_a_code(rule, code):
    with pytest.raises(ValidationFailed) as raised:
        checked_rules([FraudRule("fine", 1, B, AmountLimit("USD", 1)), rule])
    assert raised.value.code == code and raised.value.details["field"].startswith("rules[1]")


def test_duplicate_rule_ids_are_refused():
    with pytest.raises(ValidationFailed) as raised:
        checked_rules([FraudRule("same", 1, B, AmountLimit("USD", 1)), FraudRule("same", 2, R, AmountLimit("USD", 2))])
    assert raised.value.code == "duplicate_fraud_rule"

"""Prometheus counter of fraud decisions, by action and by the rule that decided."""

from __future__ import annotations

from prometheus_client import Counter

from app.domain.model.fraud_evaluation import FraudDecision

FRAUD_DECISIONS = Counter("fxp_fraud_decisions", "Fraud rule decisions on payment attempts", ["action", "rule"])


class PrometheusFraudMetrics:
    def decided(self, decision: FraudDecision) -> None:
        FRAUD_DECISIONS.labels(decision.action.value, decision.rule_id or "none").inc()

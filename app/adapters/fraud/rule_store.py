"""Merchants' fraud rule sets in PostgreSQL: one JSONB row per merchant, replaced in one
statement (so a set is never half-applied)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from app.domain.model.fraud import AmountLimit, BlockList, CardFailures, Condition, FraudAction, FraudRule, Velocity

CONDITION_TYPES: dict[str, type[Any]] = {"amount_limit": AmountLimit, "velocity": Velocity,
                                         "card_failures": CardFailures, "block_list": BlockList}
TYPE_OF = {cls: name for name, cls in CONDITION_TYPES.items()}

UPSERT = """
INSERT INTO fraud_rule_sets (merchant_id, rules, updated_at) VALUES ($1, $2::jsonb, $3)
ON CONFLICT (merchant_id) DO UPDATE SET rules = EXCLUDED.rules, updated_at = EXCLUDED.updated_at
"""


def rule_to_json(rule: FraudRule) -> dict[str, Any]:
    condition = {"type": TYPE_OF[type(rule.condition)], **dataclasses.asdict(rule.condition)}
    return {"id": rule.id, "priority": rule.priority, "action": rule.action.value, "score": rule.score,
            "condition": condition}


def rule_from_json(data: dict[str, Any]) -> FraudRule:
    fields = dict(data["condition"])
    cls = CONDITION_TYPES[fields.pop("type")]
    if "values" in fields:
        fields["values"] = tuple(fields["values"])
    condition: Condition = cls(**fields)
    return FraudRule(data["id"], data["priority"], FraudAction(data["action"]), condition, data.get("score"))


class PiccoloFraudRuleStore:
    def __init__(self, engine: PostgresEngine) -> None:
        self._engine = engine

    async def get(self, merchant_id: uuid.UUID) -> list[FraudRule]:
        async with self._engine.transaction() as transaction:
            raw = await transaction.connection.fetchval(
                "SELECT rules FROM fraud_rule_sets WHERE merchant_id = $1", merchant_id)
        return [rule_from_json(item) for item in msgspec.json.decode(raw)] if raw else []

    async def replace(self, merchant_id: uuid.UUID, rules: list[FraudRule]) -> None:
        body = msgspec.json.encode([rule_to_json(rule) for rule in rules]).decode()
        async with self._engine.transaction() as transaction:
            await transaction.connection.execute(UPSERT, merchant_id, body, datetime.now(UTC))

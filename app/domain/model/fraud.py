"""Fraud rules (SPEC section 8): per merchant, each a condition and an action. Checked
when written, so a rule set either is stored whole or not at all (nothing half-applied).
Evaluation is a pure function over a context (fraud_evaluation.py)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from app.domain.errors import ValidationFailed
from app.domain.model.money import CURRENCY_EXPONENTS

MAX_WINDOW_S = 30 * 86_400  # velocity counters are kept at most this long
MAX_RULES = 100
MAX_LIST_VALUES = 1_000
BIN = re.compile(r"^[0-9]{6,8}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
FINGERPRINT = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")  # the vault's (urlsafe base64)

VelocitySubject = Literal["card", "customer", "ip", "email"]
ListKind = Literal["card_fingerprint", "bin", "ip", "email_domain"]


class FraudAction(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


DEFAULT_SCORE = {FraudAction.ALLOW: 0, FraudAction.REVIEW: 50, FraudAction.BLOCK: 100}


def _invalid(message: str, field: str, code: str) -> ValidationFailed:
    return ValidationFailed(message, field=field, code=code)


def _window(window_s: int, field: str) -> None:
    if not 1 <= window_s <= MAX_WINDOW_S:
        raise _invalid(f"window_s must be 1-{MAX_WINDOW_S} seconds", field, "invalid_fraud_window")


@dataclass(frozen=True, slots=True)
class AmountLimit:
    """Matches an amount in `currency` above `max_amount_minor`."""

    currency: str
    max_amount_minor: int

    def check(self, field: str) -> None:
        if self.currency not in CURRENCY_EXPONENTS:
            raise _invalid(f"unknown currency {self.currency!r}", f"{field}.currency", "unknown_currency")
        if self.max_amount_minor < 0:
            raise _invalid("max_amount must not be negative", f"{field}.max_amount", "invalid_fraud_rule")


@dataclass(frozen=True, slots=True)
class Velocity:
    """Matches when this attempt makes more than `max_attempts` for one subject within `window_s`."""

    subject: VelocitySubject
    max_attempts: int
    window_s: int

    def check(self, field: str) -> None:
        _window(self.window_s, f"{field}.window_s")
        if self.max_attempts < 1:
            raise _invalid("max_attempts must be at least 1", f"{field}.max_attempts", "invalid_fraud_rule")


@dataclass(frozen=True, slots=True)
class CardFailures:
    """Matches a card with at least `max_failures` failed attempts within `window_s`."""

    max_failures: int
    window_s: int

    def check(self, field: str) -> None:
        _window(self.window_s, f"{field}.window_s")
        if self.max_failures < 1:
            raise _invalid("max_failures must be at least 1", f"{field}.max_failures", "invalid_fraud_rule")


@dataclass(frozen=True, slots=True)
class BlockList:
    """Matches a card fingerprint, BIN, IP (address or CIDR) or email domain on the list."""

    kind: ListKind
    values: tuple[str, ...]

    def check(self, field: str) -> None:
        if not 1 <= len(self.values) <= MAX_LIST_VALUES:
            raise _invalid(f"a list holds 1-{MAX_LIST_VALUES} values", f"{field}.values", "invalid_fraud_rule")
        for index, value in enumerate(self.values):
            where = f"{field}.values[{index}]"
            if self.kind == "ip":
                try:
                    ipaddress.ip_network(value, strict=False)
                except ValueError:
                    raise _invalid(f"{value!r} is not an IP address or CIDR", where, "invalid_cidr") from None
            elif self.kind == "bin" and not BIN.match(value):
                raise _invalid(f"{value!r} is not a BIN (6-8 digits)", where, "invalid_bin")
            elif self.kind == "email_domain" and not DOMAIN.match(value):
                raise _invalid(f"{value!r} is not a lower-case domain name", where, "invalid_email_domain")
            elif self.kind == "card_fingerprint" and not FINGERPRINT.match(value):
                raise _invalid(f"{value!r} is not a card fingerprint", where, "invalid_fraud_rule")


Condition = AmountLimit | Velocity | CardFailures | BlockList


@dataclass(frozen=True, slots=True)
class FraudRule:
    id: str  # the merchant's own name for the rule, unique in its set; decisions cite it
    priority: int  # lower runs first; ties keep the order given
    action: FraudAction
    condition: Condition
    score: int | None = None  # risk 0-100 this rule signals; default by action

    @property
    def risk(self) -> int:
        return DEFAULT_SCORE[self.action] if self.score is None else self.score


def checked_rules(rules: list[FraudRule]) -> list[FraudRule]:
    """The rule set in evaluation order, or ValidationFailed naming the first bad field."""
    if len(rules) > MAX_RULES:
        raise _invalid(f"at most {MAX_RULES} rules per merchant", "rules", "invalid_fraud_rule")
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        field = f"rules[{index}]"
        if rule.id in seen:
            raise _invalid(f"rule id {rule.id!r} is used twice", f"{field}.id", "duplicate_fraud_rule")
        seen.add(rule.id)
        if rule.score is not None and not 0 <= rule.score <= 100:
            raise _invalid("score must be 0-100", f"{field}.score", "invalid_fraud_rule")
        rule.condition.check(f"{field}.condition")
    return sorted(rules, key=lambda rule: rule.priority)  # stable: ties keep the given order

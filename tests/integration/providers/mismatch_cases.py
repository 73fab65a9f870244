"""The verdict-mismatch cases every provider's contract tests run: a genuine callback or
status answer about a payment that is not the attempt's (wrong amount, currency,
reference, another merchant's attempt, an attempt we do not have) must be refused by the
domain's matching rule, from what the adapter reports."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.model.money import Money
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.domain.model.provider import ProviderResult
from app.domain.model.verdict import MismatchReason, VerdictOrigin, VerdictSource, verdict_mismatches
from tests.integration.providers.builders import ATTEMPT_ID, MERCHANT_ID, ORDER_ID

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
OTHER_MERCHANT = "5d5d5d5d-5d5d-4d5d-8d5d-5d5d5d5d5d5d"
OTHER_ORDER = "7e7e7e7e-7e7e-4e7e-8e7e-7e7e7e7e7e7e"
# The cases and the reasons the rule must name (a provider that does not echo a field
# reports it as None and the case is decided by the fields it does report).
CASES = ["wrong_amount", "wrong_currency", "wrong_reference", "other_merchants_attempt", "unknown_attempt"]


def attempt(provider: str, reference: str, amount: int = 2000, currency: str = "USD") -> PaymentAttempt:
    """The attempt of builders.payment_request(), sent and given `reference` by `provider`."""
    return PaymentAttempt(ATTEMPT_ID, ORDER_ID, MERCHANT_ID, provider, Money(amount, currency),
                          AttemptStatus.PENDING, NOW, NOW, provider_reference=reference)


def reasons(provider: str, reference: str, result: ProviderResult, case: str,
            source: VerdictSource = VerdictSource.CALLBACK) -> tuple[MismatchReason, ...]:
    known = None if case == "unknown_attempt" else attempt(provider, reference)
    return verdict_mismatches(known, VerdictOrigin(provider, source, "evt"), result)


def assert_matches(provider: str, reference: str, result: ProviderResult) -> None:
    assert verdict_mismatches(attempt(provider, reference), VerdictOrigin(provider, VerdictSource.CALLBACK),
                              result) == ()

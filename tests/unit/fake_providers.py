"""In-memory fakes of the provider-side ports: payment providers, their registry, and the
short-lived card data cache. They answer what the test scripted and keep what they were
asked, so tests assert on state (`provider.purchases`), never on calls."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping

from app.domain.errors import InvalidCallback, UnknownProvider
from app.domain.model.card import CardDetails, CardToken
from app.domain.model.mismatch import VerdictMismatch
from app.domain.model.money import Money
from app.domain.model.payment import PaymentAttempt
from app.domain.model.provider import (Outcome, PaymentRequest, ProviderEvent, ProviderResult, RefundRequest,
                                       ReportedPayment)


def reported_for(request: PaymentRequest) -> ReportedPayment:
    """What a real provider reports about the payment it made for `request`."""
    return ReportedPayment(request.amount.amount_minor, request.amount.currency, request.attempt_id,
                           request.order_id, request.merchant_id)


def reference_for(attempt_id: uuid.UUID, provider: str = "sandbox") -> str:
    """The provider's own id for the payment it made for `attempt_id` (FakeProvider's default):
    distinct per attempt. The id's random part, not its start, which is the time it was made
    (app/domain/ids.py): attempts made in the same millisecond share their first 12 digits."""
    return f"{provider}_pay_{attempt_id.hex[-16:]}"


def success_for(attempt: PaymentAttempt, reference: str | None = "ref") -> ProviderResult:
    """A provider's genuine success verdict about `attempt`'s payment."""
    return ProviderResult(Outcome.SUCCEEDED, reference, reported=ReportedPayment(
        attempt.amount.amount_minor, attempt.amount.currency, attempt.id, attempt.order_id, attempt.merchant_id))


class FakeProvider:
    """Answers purchase / refund / get_status with the queued `answers` in order, then
    with `default`; a queued exception is raised instead (a timeout, an outage). Like a
    real provider, its payment answers report the payment they are about (amount,
    currency, our ids), unless the scripted answer says otherwise."""

    def __init__(self, name: str = "sandbox", default: ProviderResult | None = None,
                 needs_payment_method: bool = True) -> None:
        self.name = name
        self.needs_payment_method = needs_payment_method  # False: a redirect provider (PayPal)
        self.default = default or ProviderResult(Outcome.SUCCEEDED)  # reference: one per payment, as a provider's
        self.answers: list[ProviderResult | Exception] = []
        self.purchases: list[PaymentRequest] = []
        self.refunds: list[RefundRequest] = []
        self.status_checks: list[tuple[uuid.UUID, str | None]] = []
        self.callbacks: dict[bytes, ProviderEvent] = {}  # the bodies it accepts as genuine

    async def purchase(self, request: PaymentRequest) -> ProviderResult:
        self.purchases.append(request)
        return self._answer(request)

    async def refund(self, request: RefundRequest) -> ProviderResult:
        self.refunds.append(request)
        return self._answer()

    async def get_status(self, attempt_id: uuid.UUID, provider_reference: str | None,
                         amount: Money | None = None) -> ProviderResult:
        self.status_checks.append((attempt_id, provider_reference))
        return self._answer(next((p for p in self.purchases if p.attempt_id == attempt_id), None))

    async def parse_callback(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        if body not in self.callbacks:
            raise InvalidCallback("signature does not match")
        return self.callbacks[body]

    def _answer(self, about: PaymentRequest | None = None) -> ProviderResult:
        answer = self.answers.pop(0) if self.answers else self.default
        if isinstance(answer, Exception):
            raise answer
        if about is not None and answer.reported is None:
            answer = dataclasses.replace(answer, reported=reported_for(about))
        if about is not None and answer.provider_reference is None and answer.outcome is not Outcome.UNKNOWN:
            answer = dataclasses.replace(answer, provider_reference=reference_for(about.attempt_id, self.name))
        return answer


class RecordingVerdictAlarm:
    """VerdictAlarm that keeps what it was told."""

    def __init__(self) -> None:
        self.raised: list[VerdictMismatch] = []

    def mismatch(self, mismatch: VerdictMismatch) -> None:
        self.raised.append(mismatch)


class FakeProviderRegistry:
    def __init__(self, *providers: FakeProvider) -> None:
        self._providers = {provider.name: provider for provider in providers}

    def get(self, name: str) -> FakeProvider:
        if name not in self._providers:
            raise UnknownProvider(name)
        return self._providers[name]

    def names(self) -> list[str]:
        return sorted(self._providers)


class InMemoryCardDataCache:
    def __init__(self) -> None:
        self.cards: dict[uuid.UUID, CardDetails | CardToken] = {}

    async def put(self, attempt_id: uuid.UUID, method: CardDetails | CardToken) -> None:
        self.cards[attempt_id] = method

    async def get(self, attempt_id: uuid.UUID) -> CardDetails | CardToken | None:
        return self.cards.get(attempt_id)

    async def discard(self, attempt_id: uuid.UUID) -> None:
        self.cards.pop(attempt_id, None)

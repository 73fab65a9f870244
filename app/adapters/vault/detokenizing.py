"""Opens saved cards at the last moment: a provider asked to charge a vault token gets
the card, decrypted by the vault inside this call and gone when the call returns."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Mapping

from app.domain.model.card import CardDetails, CardToken
from app.domain.model.money import Money
from app.domain.model.payment import FailureCode
from app.domain.model.provider import Outcome, PaymentRequest, ProviderEvent, ProviderResult, RefundRequest
from app.domain.model.saved_card import TOKEN_PREFIX
from app.adapters.providers.wrapping import ProviderWrapper
from app.domain.ports import PaymentProvider

Reveal = Callable[[uuid.UUID, str], Awaitable[CardDetails | None]]


class DetokenizingProvider(ProviderWrapper):
    """A provider whose purchases may name saved cards (`card_…` tokens)."""

    def __init__(self, inner: PaymentProvider, reveal: Reveal) -> None:
        super().__init__(inner)
        self._reveal = reveal

    async def purchase(self, request: PaymentRequest) -> ProviderResult:
        method = request.payment_method
        if isinstance(method, CardToken) and method.token.startswith(TOKEN_PREFIX):
            card = await self._reveal(request.merchant_id, method.token)
            if card is None:
                return ProviderResult(Outcome.FAILED, None, FailureCode.PROCESSING_ERROR,
                                      "the saved card was deleted before the payment was sent")
            request = dataclasses.replace(request, payment_method=card)
        return await self._inner.purchase(request)

    async def refund(self, request: RefundRequest) -> ProviderResult:
        return await self._inner.refund(request)

    async def get_status(self, attempt_id: uuid.UUID, provider_reference: str | None,
                         amount: Money | None = None) -> ProviderResult:
        return await self._inner.get_status(attempt_id, provider_reference, amount)

    async def parse_callback(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        return await self._inner.parse_callback(headers, body)

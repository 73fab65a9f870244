"""Provider callbacks: verified by the provider adapter, deduplicated by the provider's
event id (a unique constraint, in the same transaction as the state change), applied once."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from app.domain.errors import MalformedCallback
from app.domain.model.provider import CallbackKind
from app.domain.ports import ProviderRegistry, UnitOfWorkFactory
from app.domain.services.payments import PaymentService
from app.domain.services.refunds import RefundService
from app.domain.services.settlement import Applied


class CallbackOutcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    ALREADY_FINAL = "already_final"
    UNKNOWN_TARGET = "unknown_target"


class CallbackService:
    def __init__(self, uow: UnitOfWorkFactory, providers: ProviderRegistry, payments: PaymentService,
                 refunds: RefundService) -> None:
        self._uow, self._providers = uow, providers
        self._payments, self._refunds = payments, refunds

    async def handle(self, provider_name: str, headers: Mapping[str, str], body: bytes) -> CallbackOutcome:
        """Raises InvalidCallback (forged, stale) or MalformedCallback; changes nothing then."""
        event = await self._providers.get(provider_name).parse_callback(headers, body)
        if event.kind is CallbackKind.IGNORED:
            return CallbackOutcome.IGNORED
        target = event.attempt_id if event.kind is CallbackKind.PAYMENT else event.refund_id
        if target is None:
            raise MalformedCallback("the callback names no payment or refund of ours")
        async with self._uow() as uow:
            if not await uow.callbacks.first_delivery(provider_name, event.event_id):
                return CallbackOutcome.DUPLICATE
            if event.kind is CallbackKind.PAYMENT:
                if await uow.payments.get(target) is None:
                    await uow.commit()
                    return CallbackOutcome.UNKNOWN_TARGET
                applied = await self._payments.settle(target, event.result, uow)
                outcome = CallbackOutcome.ALREADY_FINAL if applied is Applied.ALREADY_FINAL else CallbackOutcome.APPLIED
            else:
                if await uow.refunds.get(target) is None:
                    await uow.commit()
                    return CallbackOutcome.UNKNOWN_TARGET
                await self._refunds.settle(target, event.result, uow)
                outcome = CallbackOutcome.APPLIED
            await uow.commit()
        return outcome

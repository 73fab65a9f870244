"""Provider callbacks: verified by the provider adapter, deduplicated by the provider's
event id (a unique constraint, in the same transaction as the state change), applied once."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from app.domain.errors import DomainError, MalformedCallback
from app.domain.model.audit import Actor, ActorKind, AuditType
from app.domain.model.provider import CallbackKind
from app.domain.model.verdict import VerdictOrigin, VerdictSource
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
    MISMATCH = "mismatch"  # verified, but it does not match what we asked for: recorded, not applied


class CallbackService:
    def __init__(self, uow: UnitOfWorkFactory, providers: ProviderRegistry, payments: PaymentService,
                 refunds: RefundService) -> None:
        self._uow, self._providers = uow, providers
        self._payments, self._refunds = payments, refunds

    async def handle(self, provider_name: str, headers: Mapping[str, str], body: bytes) -> CallbackOutcome:
        """Raises InvalidCallback (forged, stale) or MalformedCallback; changes nothing then."""
        provider = self._providers.get(provider_name)
        actor = Actor(ActorKind.PROVIDER, provider_name)
        try:
            event = await provider.parse_callback(headers, body)
            target = event.attempt_id if event.kind is CallbackKind.PAYMENT else event.refund_id
            if target is None and event.kind is not CallbackKind.IGNORED:
                raise MalformedCallback("the callback names no payment or refund of ours")
        except DomainError:  # forged, stale or malformed: recorded as failed, then refused
            async with self._uow() as uow:
                uow.audit.record(AuditType.CALLBACK_RECEIVED, actor=actor, provider=provider_name)
                raise
        if event.kind is CallbackKind.IGNORED or target is None:
            return CallbackOutcome.IGNORED
        async with self._uow() as uow:
            audit = uow.audit.record(AuditType.CALLBACK_RECEIVED, actor=actor, provider=provider_name,
                                     provider_event=event.event_id)
            audit.add(**{"payment" if event.kind is CallbackKind.PAYMENT else "refund": target})
            if not await uow.callbacks.first_delivery(provider_name, event.event_id):
                audit.action = "duplicate"
                return CallbackOutcome.DUPLICATE
            if event.kind is CallbackKind.PAYMENT:
                origin = VerdictOrigin(provider_name, VerdictSource.CALLBACK, event.event_id)
                # The attempt and its order, locked at once (the order's lock first).
                locked = await uow.orders.locked_with_attempt(target)
                if locked is None:
                    await self._payments.gate.admit(uow, origin, target, None, event.result)
                    await uow.commit()
                    return CallbackOutcome.UNKNOWN_TARGET
                applied = await self._payments.settle(target, event.result, uow, origin=origin, locked=locked)
                outcome = _OUTCOMES.get(applied, CallbackOutcome.APPLIED)
            else:
                if await uow.refunds.get(target) is None:
                    await uow.commit()
                    return CallbackOutcome.UNKNOWN_TARGET
                applied_refund = await self._refunds.settle(target, event.result, uow, provider=provider_name)
                outcome = CallbackOutcome.APPLIED if applied_refund is not None else CallbackOutcome.MISMATCH
            await uow.commit()
        return outcome


_OUTCOMES = {Applied.ALREADY_FINAL: CallbackOutcome.ALREADY_FINAL, Applied.MISMATCH: CallbackOutcome.MISMATCH}

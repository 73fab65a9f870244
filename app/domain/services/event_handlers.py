"""Which use case runs for which committed event. One mapping for both transports: the
in-process bus (after commit) and the outbox relay feeding the workers."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from app.domain.events import DomainEvent
from app.domain.services.payments import PaymentService
from app.domain.services.refunds import RefundService

Handler = Callable[[DomainEvent], Awaitable[object]]


def event_handlers(payments: PaymentService, refunds: RefundService) -> dict[str, list[Handler]]:
    async def dispatch_payment(event: DomainEvent) -> object:
        return await payments.dispatch(uuid.UUID(event.payload["payment_id"]))

    async def dispatch_refund(event: DomainEvent) -> object:
        return await refunds.dispatch(uuid.UUID(event.payload["refund_id"]))

    return {"payment.requested": [dispatch_payment], "refund.requested": [dispatch_refund]}

"""Payment and refund actors. The use cases are idempotent on their own (a no-op once the
attempt or refund has left its first state; the id is the provider's idempotency key);
processed_events spares a redelivered event even the lookup."""

from __future__ import annotations

import uuid

from app.workers import runtime


async def dispatch_payment(attempt_id: str, event_id: str | None = None) -> None:
    """payment.requested: send the INITIATED attempt to its provider."""
    services = runtime.services()
    await services.processed.once("dispatch_payment", uuid.UUID(event_id) if event_id else None,
                                  lambda: services.container.payments.dispatch(uuid.UUID(attempt_id)))


async def dispatch_refund(refund_id: str, event_id: str | None = None) -> None:
    """refund.requested: ask the provider for the PENDING refund."""
    services = runtime.services()
    await services.processed.once("dispatch_refund", uuid.UUID(event_id) if event_id else None,
                                  lambda: services.container.refunds.dispatch(uuid.UUID(refund_id)))

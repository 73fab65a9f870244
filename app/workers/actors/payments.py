"""Payment and refund actors. The use cases are idempotent on their own (a no-op once the
attempt or refund has left its first state; the id is the provider's idempotency key);
processed_events spares a redelivered event even the lookup."""

from __future__ import annotations

import uuid

from app.bootstrap import Container


def _event(event_id: str | None) -> uuid.UUID | None:
    return uuid.UUID(event_id) if event_id else None


async def dispatch_payment(container: Container, attempt_id: str, event_id: str | None = None) -> None:
    """payment.requested: send the INITIATED attempt to its provider."""
    # The mark rides on the settle's commit: the verdict and the mark commit together.
    await container.processed.once("dispatch_payment", _event(event_id),
                                   lambda: container.consumers.dispatch_payment(attempt_id), mark_with_commit=True)


async def dispatch_refund(container: Container, refund_id: str, event_id: str | None = None) -> None:
    """refund.requested: ask the provider for the PENDING refund."""
    await container.processed.once("dispatch_refund", _event(event_id),
                                   lambda: container.consumers.dispatch_refund(refund_id))

"""Allocate-and-fulfil actor. The use case claims the event id in its own transaction
(processed_events), so a redelivered message allocates nothing twice."""

from __future__ import annotations

from app.bootstrap import Container


async def allocate_stock(container: Container, order_id: str, payment_id: str, merchant_id: str,
                         event_id: str) -> None:
    """payment.succeeded: allocate the order's stock and start fulfillment (or refund)."""
    await container.consumers.allocate_stock(order_id, payment_id, merchant_id, event_id)

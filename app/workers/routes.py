"""The outbox relay's routing table: for each committed event type, the actors that
consume it and their arguments. Data, built in one place; the in-process bus's mapping
(app/domain/services/event_handlers.py) runs the same use cases for the same events."""

from __future__ import annotations

from app.adapters.queue.outbox_relay import Route
from app.domain.services.notifications import StoredEvent
from app.domain.services.notifications import NOTIFIED_EVENTS


def _dispatch_payment(event: StoredEvent) -> dict[str, str]:
    return {"attempt_id": event.payload["payment_id"], "event_id": str(event.id)}


def _dispatch_refund(event: StoredEvent) -> dict[str, str]:
    return {"refund_id": event.payload["refund_id"], "event_id": str(event.id)}


def _notify_merchant(event: StoredEvent) -> dict[str, str]:
    return {"event_id": str(event.id)}


def event_routes() -> dict[str, list[Route]]:
    routes: dict[str, list[Route]] = {
        "payment.requested": [Route("dispatch_payment", _dispatch_payment)],
        "refund.requested": [Route("dispatch_refund", _dispatch_refund)],
    }
    for event_type in sorted(NOTIFIED_EVENTS):
        routes.setdefault(event_type, []).append(Route("notify_merchant", _notify_merchant))
    return routes

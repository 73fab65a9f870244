"""Which consumers each committed event reaches, and with what arguments: the one
routing table, as data. The in-process bus (inline dispatch) and the outbox relay
(workers) both read it, and a consumer has the same name in both: an in-process handler
(EventConsumers) and a Dramatiq actor that calls that same handler."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from app.domain.model.notification import SHOPPER_EVENTS
from app.domain.services.notifications import NOTIFIED_EVENTS

DISPATCH_PAYMENT = "dispatch_payment"
DISPATCH_REFUND = "dispatch_refund"
ALLOCATE_STOCK = "allocate_stock"
NOTIFY_MERCHANT = "notify_merchant"
NOTIFY_CUSTOMER = "notify_customer"  # shopper email/SMS (app/domain/services/customer_notifications.py)
SEND_NOTIFICATION = "send_notification"  # one delivery of it (a retry, a wake-up); not routed from events


class RoutedEvent(Protocol):
    """A committed event: the domain's DomainEvent, or the outbox row's StoredEvent."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def type(self) -> str: ...

    @property
    def merchant_id(self) -> uuid.UUID: ...

    @property
    def payload(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Route:
    """One consumer of an event type: its name and its keyword arguments (ids, as text:
    they travel in queue messages)."""

    consumer: str
    arguments: Callable[[RoutedEvent], dict[str, Any]]


def _payment(event: RoutedEvent) -> dict[str, Any]:
    return {"attempt_id": event.payload["payment_id"], "event_id": str(event.id)}


def _refund(event: RoutedEvent) -> dict[str, Any]:
    return {"refund_id": event.payload["refund_id"], "event_id": str(event.id)}


def _allocation(event: RoutedEvent) -> dict[str, Any]:
    return {"order_id": event.payload["order_id"], "payment_id": event.payload["payment_id"],
            "merchant_id": str(event.merchant_id), "event_id": str(event.id)}


def _event(event: RoutedEvent) -> dict[str, Any]:
    return {"event_id": str(event.id)}


def _routes() -> dict[str, tuple[Route, ...]]:
    routes: dict[str, tuple[Route, ...]] = {
        "payment.requested": (Route(DISPATCH_PAYMENT, _payment),),
        "refund.requested": (Route(DISPATCH_REFUND, _refund),),
        # A paid order's stock is allocated and its fulfillment started (or it is refunded).
        "payment.succeeded": (Route(ALLOCATE_STOCK, _allocation),),
    }
    for event_type in sorted(NOTIFIED_EVENTS):
        routes[event_type] = routes.get(event_type, ()) + (Route(NOTIFY_MERCHANT, _event),)
    for event_type in sorted(SHOPPER_EVENTS):
        routes[event_type] = routes.get(event_type, ()) + (Route(NOTIFY_CUSTOMER, _event),)
    return routes


EVENT_ROUTES: Mapping[str, tuple[Route, ...]] = MappingProxyType(_routes())
CONSUMERS = frozenset(route.consumer for routes in EVENT_ROUTES.values() for route in routes)


def messages_for(event: RoutedEvent, routes: Mapping[str, tuple[Route, ...]] = EVENT_ROUTES,
                 ) -> list[tuple[str, dict[str, Any]]]:
    """(consumer, keyword arguments) for every consumer of `event`."""
    return [(route.consumer, route.arguments(event)) for route in routes.get(event.type, ())]

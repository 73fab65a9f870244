"""What each routed message does, by consumer name (app/domain/routing.py): one use case
call per consumer. The in-process bus calls these after commit; the Dramatiq actor of
the same name calls the same method (adding its dedupe on the event id)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from app.domain.ports_notifications import NotificationOutcome
from app.domain.routing import (
    ALLOCATE_STOCK, DISPATCH_PAYMENT, DISPATCH_REFUND, NOTIFY_CUSTOMER, NOTIFY_MERCHANT, SEND_NOTIFICATION,
)
from app.domain.services.customer_notifications import CustomerNotifications
from app.domain.services.fulfillment import Allocation, FulfillmentService
from app.domain.services.notifications import DeliveryOutcome, NotificationService
from app.domain.services.payments import PaymentService
from app.domain.services.refunds import RefundService

Consumer = Callable[..., Awaitable[Any]]


class EventConsumers:
    def __init__(self, payments: PaymentService, refunds: RefundService, notifications: NotificationService,
                 fulfillment: FulfillmentService, customers: CustomerNotifications | None = None) -> None:
        self._payments, self._refunds, self._notifications = payments, refunds, notifications
        self._fulfillment, self._customers = fulfillment, customers

    async def dispatch_payment(self, attempt_id: str, event_id: str | None = None) -> object:
        """payment.requested: send the INITIATED attempt to its provider."""
        return await self._payments.dispatch(uuid.UUID(attempt_id))

    async def dispatch_refund(self, refund_id: str, event_id: str | None = None) -> object:
        """refund.requested: ask the provider for the PENDING refund."""
        return await self._refunds.dispatch(uuid.UUID(refund_id))

    async def notify_merchant(self, event_id: str, attempt: int = 1, resend: bool = False) -> DeliveryOutcome:
        """A notified event: deliver it to the merchant's webhook endpoint (attempt `attempt`)."""
        return await self._notifications.deliver(uuid.UUID(event_id), attempt, resend=resend)

    async def notify_customer(self, event_id: str) -> list[NotificationOutcome]:
        """A shopper-facing event: plan its email/SMS deliveries and send those due."""
        if self._customers is None:
            return []
        return await self._customers.notify_event(uuid.UUID(event_id))

    async def send_notification(self, delivery_id: str, lease: str | None = None) -> NotificationOutcome:
        """One attempt of one shopper delivery (a retry, or a wake-up holding `lease`)."""
        if self._customers is None:
            return NotificationOutcome.NOT_CLAIMED
        return await self._customers.deliver(uuid.UUID(delivery_id), lease)

    async def allocate_stock(self, order_id: str, payment_id: str, merchant_id: str, event_id: str) -> Allocation:
        """payment.succeeded: allocate the order's stock and start fulfillment, or refund.
        The use case claims the event id in its transaction: a redelivery allocates nothing."""
        return await self._fulfillment.allocate(uuid.UUID(event_id), uuid.UUID(merchant_id), uuid.UUID(order_id),
                                                uuid.UUID(payment_id))

    def by_name(self) -> Mapping[str, Consumer]:
        return {DISPATCH_PAYMENT: self.dispatch_payment, DISPATCH_REFUND: self.dispatch_refund,
                NOTIFY_MERCHANT: self.notify_merchant, ALLOCATE_STOCK: self.allocate_stock,
                NOTIFY_CUSTOMER: self.notify_customer, SEND_NOTIFICATION: self.send_notification}

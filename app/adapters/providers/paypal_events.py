"""Verified PayPal webhook events -> ProviderEvent.

An event is `{"id": "WH-...", "event_type": ..., "resource_type": ..., "resource": {...}}`
(developer.paypal.com/api/rest/webhooks/event-names). The resource is an order for
CHECKOUT.ORDER.*, a capture for PAYMENT.CAPTURE.COMPLETED/DENIED (order id under
supplementary_data.related_ids) and a refund for PAYMENT.CAPTURE.REFUNDED. Our ids ride
in `custom_id`: the attempt id on the purchase unit (copied onto its capture), the
refund id on the refund. Events without them are not ours and are IGNORED.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from app.adapters.providers.http import JsonObject
from app.adapters.providers.paypal_mapping import custom_uuid, result_from_capture, result_from_refund, with_reported
from app.domain.model.provider import CallbackKind, Outcome, ProviderEvent, ProviderResult

CaptureOrder = Callable[[str, uuid.UUID | None], Awaitable[ProviderResult]]


def ignored(event_id: str, event_type: str) -> ProviderEvent:
    return ProviderEvent(event_id, CallbackKind.IGNORED, ProviderResult(Outcome.UNKNOWN), event_type=event_type)


class PayPalEventMapper:
    def __init__(self, capture_order: CaptureOrder) -> None:
        self._capture_order = capture_order

    async def to_event(self, event: JsonObject) -> ProviderEvent:
        event_id, event_type = event["id"], event["event_type"]
        found = event.get("resource")
        resource: JsonObject = found if isinstance(found, dict) else {}
        if event_type == "CHECKOUT.ORDER.APPROVED":
            return await self._order_approved(event_id, event_type, resource)
        if event_type in ("PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DENIED"):
            return self._capture_event(event_id, event_type, resource)
        if event_type == "PAYMENT.CAPTURE.REFUNDED":
            refund_id = custom_uuid(resource)
            if refund_id is None:
                return ignored(event_id, event_type)
            return ProviderEvent(event_id, CallbackKind.REFUND, result_from_refund(resource),
                                 refund_id=refund_id, event_type=event_type)
        return ignored(event_id, event_type)

    async def _order_approved(self, event_id: str, event_type: str, order: JsonObject) -> ProviderEvent:
        units = order.get("purchase_units") or [{}]
        attempt_id = custom_uuid(units[0] if isinstance(units[0], dict) else None)
        order_id = order.get("id")
        if attempt_id is None or not isinstance(order_id, str):
            return ignored(event_id, event_type)
        # Approval is not payment: capture now, and report what the capture decided.
        result = await self._capture_order(order_id, attempt_id)
        return ProviderEvent(event_id, CallbackKind.PAYMENT, result, attempt_id=attempt_id, event_type=event_type)

    def _capture_event(self, event_id: str, event_type: str, capture: JsonObject) -> ProviderEvent:
        attempt_id = custom_uuid(capture)
        if attempt_id is None:
            return ignored(event_id, event_type)
        related = (capture.get("supplementary_data") or {}).get("related_ids") or {}
        result = with_reported(result_from_capture(capture, related.get("order_id")), None, capture)
        return ProviderEvent(event_id, CallbackKind.PAYMENT, result, attempt_id=attempt_id, event_type=event_type)

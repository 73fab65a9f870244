"""Verified Stripe Event objects -> ProviderEvent.

An Event is `{"id": "evt_...", "object": "event", "type": ..., "data": {"object": {...}}}`
(docs.stripe.com/api/events/object). Events about objects we did not create (no
`metadata[attempt_id]` / `metadata[refund_id]`, e.g. a dashboard payment on the same
account) are IGNORED: there is nothing of ours to update.
"""

from __future__ import annotations

from app.adapters.providers.http import JsonObject
from app.adapters.providers.stripe_mapping import (failed, metadata_uuid, result_from_intent, result_from_refund,
                                                   with_reported)
from app.domain.errors import MalformedCallback
from app.domain.model.provider import CallbackKind, Outcome, ProviderEvent, ProviderResult

# requires_action: the shopper must authenticate (the redirect is news, no verdict);
# canceled: the intent will never be paid.
PAYMENT_EVENTS = {"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.requires_action",
                  "payment_intent.canceled"}
# charge.refunded is the documented one; refund.* carry the Refund itself, which matters
# on API versions (2022-11-15+) where a Charge no longer embeds its refunds list.
REFUND_OBJECT_EVENTS = {"charge.refund.updated", "refund.updated", "refund.failed"}


def event_from_stripe(event: JsonObject) -> ProviderEvent:
    event_id, event_type = event.get("id"), event.get("type")
    obj = (event.get("data") or {}).get("object")
    if not isinstance(event_id, str) or not isinstance(event_type, str) or not isinstance(obj, dict):
        raise MalformedCallback("Stripe event lacks id, type or data.object")
    if event_type in PAYMENT_EVENTS:
        return _payment_event(event_id, event_type, obj)
    if event_type == "charge.refunded":
        refunds = ((obj.get("refunds") or {}).get("data")) or []
        ours = next((r for r in refunds if isinstance(r, dict) and metadata_uuid(r, "refund_id")), None)
        return _refund_event(event_id, event_type, ours)
    if event_type in REFUND_OBJECT_EVENTS:
        return _refund_event(event_id, event_type, obj)
    return ignored(event_id, event_type)


def ignored(event_id: str, event_type: str) -> ProviderEvent:
    return ProviderEvent(event_id, CallbackKind.IGNORED, ProviderResult(Outcome.UNKNOWN), event_type=event_type)


def _payment_event(event_id: str, event_type: str, intent: JsonObject) -> ProviderEvent:
    attempt_id = metadata_uuid(intent, "attempt_id")
    if attempt_id is None:
        return ignored(event_id, event_type)
    if event_type == "payment_intent.payment_failed":
        # The snapshot may already show a later status; the event itself says "failed".
        result = with_reported(failed(intent.get("last_payment_error") or {"type": "card_error"}, intent.get("id")),
                               intent)
    else:
        result = result_from_intent(intent)
    return ProviderEvent(event_id, CallbackKind.PAYMENT, result, attempt_id=attempt_id, event_type=event_type)


def _refund_event(event_id: str, event_type: str, refund: JsonObject | None) -> ProviderEvent:
    refund_id = metadata_uuid(refund, "refund_id") if refund else None
    if refund is None or refund_id is None:
        return ignored(event_id, event_type)
    return ProviderEvent(event_id, CallbackKind.REFUND, result_from_refund(refund),
                         attempt_id=metadata_uuid(refund, "attempt_id"), refund_id=refund_id,
                         event_type=event_type)

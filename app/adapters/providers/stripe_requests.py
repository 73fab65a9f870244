"""The form bodies the Stripe adapter sends, for STRIPE_API_VERSION.

Every name here must exist in that version's request parameters: the contract test
(tests/integration/providers/test_stripe_params_contract.py) checks each request the
adapter really sends against the `stripe` package's own params TypedDicts.

Since the endive versions a PaymentIntent no longer takes `payment_method_types`
(400 `payment_method_types_no_longer_supported`); `allowed_payment_method_types` keeps
it card-only instead. Confirming server-side (`confirm=true`) then needs either a
`return_url`, where Stripe sends the shopper back after 3-D Secure, or redirects turned
off; without a return_url we also ask Stripe to fail at once with
`authentication_required` rather than leave the intent waiting for an action no shopper
can take (`error_on_requires_action`).
"""

from __future__ import annotations

import uuid

from app.domain.model.provider import PaymentRequest, RefundRequest


def payment_intent_form(request: PaymentRequest, payment_method: str) -> dict[str, str]:
    """POST /v1/payment_intents: create and confirm in one call."""
    form = {
        "amount": str(request.amount.amount_minor),  # Stripe's "smallest currency unit"
        "currency": request.amount.currency.lower(),
        "confirm": "true",
        "payment_method": payment_method,
        "allowed_payment_method_types[0]": "card",
        "metadata[attempt_id]": str(request.attempt_id),
        "metadata[order_id]": str(request.order_id),
        "metadata[merchant_id]": str(request.merchant_id),
    }
    if request.description:
        form["description"] = request.description
    if request.return_url:
        form["return_url"] = request.return_url
    else:
        form["automatic_payment_methods[enabled]"] = "true"
        form["automatic_payment_methods[allow_redirects]"] = "never"
        form["error_on_requires_action"] = "true"
    return form


def refund_form(request: RefundRequest) -> dict[str, str]:
    """POST /v1/refunds: the whole or part of the intent's capture."""
    return {
        "payment_intent": request.provider_reference or "",
        "amount": str(request.amount.amount_minor),
        "metadata[refund_id]": str(request.refund_id),
        "metadata[attempt_id]": str(request.attempt_id),
    }


def search_query(attempt_id: uuid.UUID) -> dict[str, str]:
    """GET /v1/payment_intents/search: ours are found by the attempt id in their metadata."""
    return {"query": f"metadata['attempt_id']:'{attempt_id}'"}

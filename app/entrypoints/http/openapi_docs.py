"""The OpenAPI document a merchant integrates from, completed once the app is built:
each operation's description (openapi_operations), the meaning of fields that are not
self-evident, request examples the API accepts (tests/integration/test_openapi_docs.py
sends every one), the problem codes, and the webhooks (openapi_webhooks)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.enums import ParamType
from litestar.openapi.spec import OpenAPIResponse, OpenAPIType, Operation, Parameter, Reference, Schema

from app.entrypoints.http.idempotency import EXEMPT_PREFIXES
from app.entrypoints.http.openapi_operations import OPERATIONS
from app.entrypoints.http.openapi_webhooks import example, webhooks
from app.entrypoints.http.problem_codes import PROBLEM_CODES
from app.entrypoints.http.schemas import patterns

# Placeholders in examples for ids only a running API has: replace them with your own.
ORDER_ID = "00000000-0000-4000-8000-000000000001"
MERCHANT_ID = "00000000-0000-4000-8000-000000000002"
CARD_TOKEN = "card_REPLACE_WITH_YOUR_TOKEN"
CARD = {"type": "card", "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
ORDER = {"amount": 2500, "currency": "USD",
         "items": [{"name": "Mug", "quantity": 2, "unit_amount": 1000},
                   {"name": "Shipping", "quantity": 1, "unit_amount": 500}],
         "customer": {"email": "ada@example.com", "name": "Ada Lovelace", "phone": "+442071838750"},
         "merchant_reference": "order-1042", "description": "Two mugs, shipped"}
PAYMENT = {"order_id": ORDER_ID, "provider": "sandbox", "payment_method": CARD}

# (method, path) -> example name -> (summary, body). Put the ids of your own resources
# where the placeholders stand (ORDER_ID, MERCHANT_ID, CARD_TOKEN).
EXAMPLES: dict[tuple[str, str], dict[str, tuple[str, dict[str, Any]]]] = {
    ("POST", "/orders"): {
        "free_items": ("Items with a name and a price; they add up to the amount", ORDER),
        "amount_only": ("Just an amount", {"amount": 1999, "currency": "EUR"}),
        "catalog": ("Items from your catalog (create the product MUG-1 first); the amount is their total",
                    {"currency": "USD", "items": [{"sku": "MUG-1", "quantity": 2}]}),
    },
    ("PUT", "/orders/{order_id}"): {
        "change": ("A new amount and description", {"amount": 3000, "items": [], "description": "Three mugs"}),
    },
    ("POST", "/orders/{order_id}/cancel"): {"reason": ("With a reason", {"reason": "customer changed their mind"})},
    ("POST", "/payments"): {
        "card": ("A card (sandbox test card: succeeds)", PAYMENT),
        "card_with_return_url": ("A card that may need 3-D Secure: the shopper comes back to return_url", {
            **PAYMENT, "return_url": "https://shop.example/orders/1042/paid"}),
        "saved_card": ("A saved card's token (from POST /cards)", {
            "order_id": ORDER_ID, "provider": "sandbox", "payment_method": {"type": "card_token", "token": CARD_TOKEN}}),
    },
    ("POST", "/payments/{payment_id}/retry"): {
        "card": ("Another card for a failed payment", {"payment_method": CARD}),
    },
    ("POST", "/products"): {
        "product": ("A product with its initial stock", {"sku": "MUG-1", "name": "Mug", "unit_amount": 1000,
                                                         "currency": "USD", "lead_time_days": 2, "stock": 100}),
    },
    ("PUT", "/products/{product_id}"): {"reprice": ("A new name and price", {"name": "Large mug", "unit_amount": 1200})},
    ("POST", "/products/{product_id}/stock-adjustments"): {
        "received": ("Stock received", {"delta": 20, "reason": "delivery from supplier"}),
        "lost": ("Stock lost", {"delta": -1, "reason": "broken in the warehouse"}),
    },
    ("POST", "/cards"): {
        "card": ("A card to save", {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123",
                                    "holder_name": "Ada Lovelace"}),
    },
    ("POST", "/auth/register"): {
        "customer": ("A customer of your shop", {"merchant_id": MERCHANT_ID, "email": "ada@example.com",
                                                 "password": "correct horse battery staple"}),
    },
    ("POST", "/order/create"): {"order": ("Seed 001's order creation", {"amount": 2500, "currency": "USD"})},
    ("POST", "/payment/request"): {"card": ("Seed 001's payment request", PAYMENT)},
}

NOW = "2026-11-26T10:00:00.123456Z"
ORDER_OUT = {"id": ORDER_ID, "status": "CREATED", "amount": 2500, "currency": "USD",
             "items": [{"name": "Mug", "quantity": 2, "unit_amount": 1000, "sku": None},
                       {"name": "Shipping", "quantity": 1, "unit_amount": 500, "sku": None}],
             "customer": {"email": "ada@example.com", "name": "Ada Lovelace", "phone": "+442071838750"},
             "merchant_reference": "order-1042", "description": "Two mugs, shipped", "attempt_count": 0,
             "estimated_delivery": None, "status_reason": None, "created_at": NOW, "updated_at": NOW,
             "payments": [], "refunds": []}
PAYMENT_OUT = {"id": "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed", "order_id": ORDER_ID, "provider": "sandbox",
               "status": "INITIATED", "amount": 2500, "currency": "USD", "attempt_number": 1, "card_brand": "visa",
               "card_last4": "4242", "provider_reference": None, "redirect_url": None, "return_url": None,
               "failure_code": None, "failure_message": None, "created_at": NOW, "updated_at": NOW,
               "card_fingerprint": "fp_8c1d0a4e6b2f", "fraud": {"action": "allow", "rule_id": None, "risk_score": 0,
                                                                "reasons": []}}
EVENT_OUT = {"id": "0d3b1c8e-2f61-4c3e-8d51-6c1e2a9b7f40", "type": "payment.succeeded",
             "created_at": "2026-11-26T10:00:02.123456+00:00",
             "data": {"payment_id": PAYMENT_OUT["id"], "order_id": ORDER_ID, "provider": "sandbox", "amount": 2500,
                      "currency": "USD", "order": {"id": ORDER_ID, "merchant_reference": "order-1042",
                                                   "amount": 2500, "currency": "USD", "status": "PAYMENT_DONE"}},
             "delivery": {"status": "delivered", "next_attempt_at": None, "attempts": [
                 {"attempt": 1, "url": "https://shop.example/hooks", "status_code": 500, "latency_ms": 84,
                  "error": "HTTP 500", "succeeded": False, "created_at": "2026-11-26T10:00:02.300000Z"},
                 {"attempt": 2, "url": "https://shop.example/hooks", "status_code": 200, "latency_ms": 61,
                  "error": None, "succeeded": True, "created_at": "2026-11-26T10:00:07.400000Z"}]}}
# (method, path, status) -> example name -> (summary, body): what the API answers.
RESPONSE_EXAMPLES: dict[tuple[str, str, str], dict[str, tuple[str, Any]]] = {
    ("POST", "/orders", "201"): {"created": ("The new order", ORDER_OUT)},
    ("GET", "/orders/{order_id}", "200"): {"paid": ("A paid order with its payment", {
        **ORDER_OUT, "status": "PAYMENT_DONE", "attempt_count": 1,
        "payments": [{**PAYMENT_OUT, "status": "SUCCESS", "provider_reference": "sbx_pay_7Hk2"}]})},
    ("POST", "/payments", "202"): {"accepted": ("Accepted: the verdict follows (webhook, or GET /payments/{id})",
                                                PAYMENT_OUT)},
    ("GET", "/payments/{payment_id}", "200"): {"declined": ("A declined attempt", {
        **PAYMENT_OUT, "status": "FAILED", "failure_code": "card_declined",
        "failure_message": "Your card was declined.", "provider_reference": "sbx_pay_9Qz1"})},
    ("GET", "/events/{event_id}", "200"): {"delivered": ("Delivered on the second try", EVENT_OUT)},
    ("GET", "/events", "200"): {"page": ("A page of events", {"data": [EVENT_OUT], "has_more": True,
                                                             "next_cursor": "MjAyNi0xMS0yNlQxMDowMDowMiswMDowMHw"})},
}

# Schema name -> field -> what it means (where the name does not say it all).
FIELDS: dict[str, dict[str, str]] = {
    "OrderCreate": {
        "items": "Line items; each names a catalog `sku`, or gives `name` and `unit_amount`. Their total must "
                 "equal `amount` (`422 items_total_mismatch`).",
        "merchant_reference": "Your own id for the order, unique per merchant (`409 duplicate_order`); webhooks "
                              "carry it.",
        "description": "Free text shown back to you, up to 1000 characters.",
    },
    "LineItemIn": {
        "sku": "A product of your catalog: its name and price are used (a `unit_amount` sent must equal it).",
        "name": "For an item without a sku.",
        "unit_amount": "Minor units per unit, for an item without a sku.",
    },
    "Order": {
        "status_reason": "Why the order is in its status: a payment failure code, your cancel reason, "
                         "`insufficient_stock`.",
        "attempt_count": "Payment attempts made so far, the first included (the limit counts them all).",
        "estimated_delivery": "Set when fulfillment starts: the slowest product's lead time plus shipping days.",
        "merchant_reference": "Your own id for the order.",
    },
    "PaymentCreate": {
        "order_id": "The order to pay (it must be `CREATED`).",
        "provider": "`sandbox` (test cards in the README), `stripe`, `paypal` or `card`, as configured.",
        "payment_method": "A card (`type: card`, with number, expiry and CVC) or a saved card (`type: card_token`).",
    },
    "Payment": {
        "attempt_number": "1 for the order's first attempt; each retry is a new attempt with the next number.",
        "provider_reference": "The provider's own id for the payment, once it answered.",
        "failure_code": "Why it failed: card_declined, insufficient_funds, expired_card, invalid_cvc, "
                        "processing_error, gateway_timeout, fraud_blocked, fraud_rejected, authentication_required.",
        "status": "INITIATED (accepted, not sent yet), PENDING (sent, verdict awaited), REQUIRES_REVIEW (held by "
                  "a fraud rule), SUCCESS, FAILED.",
    },
    "Card": {"fingerprint": "The same card number always has the same fingerprint for your merchant.",
             "token": "Pay with it: `payment_method: {type: card_token, token}`."},
    "Stock": {"reserved": "Held by payments in flight (given back when they fail or expire).",
              "allocated": "Taken by paid orders.", "available": "What new orders can still get."},
    "ProblemDetails": {
        "type": "A reference to this code's page, relative to the API's URL: `/problems/{code}`.",
        "code": "Stable, machine-readable; always comes with the same status. Every code: GET /problems.",
        "errors": "For 400 `validation_failed`: each field (a JSON path like `items[0].quantity`) and what is wrong.",
        "dependency": "For 503 `service_unavailable`: what is down. Retry the same request after Retry-After.",
    },
    "Tokens": {"expires_in": "Seconds the access token is valid (15 minutes).",
               "refresh_token": "Spend it once with POST /auth/refresh; reuse revokes the login."},
}

INTRO = """One payment API in front of several providers. Every merchant operation takes
`Authorization: Bearer <API key>`. Amounts are JSON integers in minor units (`2500` is
25.00 USD; `"2500"` and `25.0` are refused). Every mutating POST takes an `Idempotency-Key`.

Every error is `application/problem+json` (RFC 9457) with a stable `code`; each code always
comes with the same status. `400`: the request does not match the schema (fix it); `422`: it
is well-formed but a business rule refuses it; `409`: the resource's state refuses it; `503`:
a dependency is down (retry after `Retry-After`, with the same `Idempotency-Key`). The
`type` of a problem is its page, `/problems/{code}`.

Your webhook endpoint receives the events listed under *Webhooks*, signed per Standard
Webhooks; `GET /events` lists them with every delivery attempt.
"""


IDEMPOTENCY_KEY_TEXT = ("Makes the POST safe to retry (kept 24 h, per merchant): 1-255 printable ASCII characters, "
                        "e.g. a UUID")


def idempotency_key_parameter() -> Parameter:
    """The Idempotency-Key header as documented on every POST the idempotency middleware
    covers. The middleware reads and checks it; a handler parameter for it would only make
    Litestar parse every request's headers to hand over a value nobody uses."""
    return Parameter(name="Idempotency-Key", param_in=ParamType.HEADER, required=False,
                     description=IDEMPOTENCY_KEY_TEXT,
                     schema=Schema(type=OpenAPIType.STRING, min_length=1, max_length=255,
                                   pattern=patterns.IDEMPOTENCY_KEY))


def document(app: Litestar) -> None:
    schema = app.openapi_schema
    schema.info.description = INTRO + "\n" + problem_table()
    for path, item in (schema.paths or {}).items():
        for method in ("get", "post", "put", "delete", "patch"):
            operation = getattr(item, method, None)
            if isinstance(operation, Operation):
                _describe(operation, method.upper(), path)
        if isinstance(item.post, Operation) and not path.startswith(EXEMPT_PREFIXES):
            item.post.parameters = [*(item.post.parameters or []), idempotency_key_parameter()]
    components = schema.components.schemas or {}
    for name, fields in FIELDS.items():
        for field, text in fields.items():
            target = components[name].properties[field] if name in components else None  # type: ignore[index]
            if isinstance(target, Schema | Reference):
                target.description = text
    schema.webhooks = dict(webhooks())


def _describe(operation: Operation, method: str, path: str) -> None:
    for (m, p, status), answers in RESPONSE_EXAMPLES.items():
        response = (operation.responses or {}).get(status) if (m, p) == (method, path) else None
        media = response.content.get("application/json") if isinstance(response, OpenAPIResponse) and response.content \
            else None
        if media is not None:
            media.examples = {name: example(summary, value) for name, (summary, value) in answers.items()}
    text = OPERATIONS.get((method, path))
    if text:
        operation.description = f"{operation.description or ''}\n\n{text}".strip()  # roles line first
    examples = EXAMPLES.get((method, path))
    body = operation.request_body
    if examples and body is not None and not isinstance(body, Reference):
        media = body.content.get("application/json")
        if media is not None:
            media.examples = {name: example(summary, value) for name, (summary, value) in examples.items()}


def problem_table() -> str:
    rows = "\n".join(f"| `{code}` | {status} | {meaning} |" for code, (status, meaning) in PROBLEM_CODES.items())
    return f"### Problem codes\n\n| code | status | meaning |\n|---|---|---|\n{rows}\n"

"""What each operation does, in words a merchant integrates from: one table, keyed by
(method, path as the OpenAPI document writes it). app.py's document step puts each text
after the operation's roles line; a test checks that no operation lacks one."""

from __future__ import annotations

IDEMPOTENT = ("Send an `Idempotency-Key` (e.g. a UUID) to make it safe to retry: the same key with the same "
              "body (compared as parsed JSON) answers the stored response (`Idempotent-Replayed: true`) and "
              "does nothing twice; with another body it is `422 idempotency_key_reused`.")

OPERATIONS: dict[tuple[str, str], str] = {
    # Orders
    ("POST", "/orders"): (
        "Create an order in `CREATED`. Give `amount` (integer minor units) and `currency`, or `items` that add up "
        "to it (leave `amount` out and their total is used). An item either names a catalog `sku` (name and price "
        "then come from the catalog) or gives `name` and `unit_amount`. `merchant_reference` is your own id, "
        "unique per merchant (`409 duplicate_order`). " + IDEMPOTENT),
    ("GET", "/orders"): (
        "Your orders, newest first, with keyset pagination: pass `next_cursor` as `cursor` for the next page. "
        "Filter by `status` and creation time (`created_after` inclusive, `created_before` exclusive)."),
    ("GET", "/orders/{order_id}"): (
        "One order with its items, status (and `status_reason`), every payment attempt and every refund. "
        "Another merchant's order is `404`."),
    ("PUT", "/orders/{order_id}"): (
        "Change the amount, currency, items, customer or description; only while the order is `CREATED` "
        "(`409 invalid_state_transition` otherwise). Fields left out stay as they are."),
    ("POST", "/orders/{order_id}/cancel"): (
        "Cancel the order (`ORDER_CANCELLED`). A paid order is refunded in full (the refund is listed on the "
        "order; `refund.succeeded` / `refund.failed` webhooks follow) and its stock returned. " + IDEMPOTENT),
    # Payments
    ("POST", "/payments"): (
        "Pay for a `CREATED` order: answers `202` with the attempt (`INITIATED`, or `FAILED` at once when a fraud "
        "rule blocks it); the provider's verdict follows asynchronously: poll `GET /payments/{id}` or wait for "
        "`payment.succeeded` / `payment.failed`. `payment_method` is a card (`type: card`) or a saved card "
        "(`type: card_token`). With `return_url`, a payment that needs the shopper (3-D Secure) stays `PENDING` "
        "with a `redirect_url` to send them to. The attempt id is the provider's idempotency key: a retried "
        "request never charges twice. " + IDEMPOTENT),
    ("GET", "/payments/{payment_id}"): (
        "One payment attempt: its status (`INITIATED`, `PENDING`, `REQUIRES_REVIEW`, `SUCCESS`, `FAILED`), "
        "`failure_code`, the card's brand and last 4 digits, `redirect_url` while the shopper must act, and the "
        "fraud rules' verdict."),
    ("POST", "/payments/{payment_id}/retry"): (
        "A new attempt for an order whose last attempt failed (`PAYMENT_FAILED`). The path names the failed "
        "attempt; the answer is the new one (a new id, `attempt_number` + 1). An order has at most "
        "`FXP_PAYMENTS__MAX_ATTEMPTS` attempts (3 by default), the first one included: past it, "
        "`409 retry_limit_reached`. " + IDEMPOTENT),
    # Catalog
    ("POST", "/products"): (
        "Add a product to your catalog: `sku` (unique per merchant, `409 duplicate_sku`), name, unit price in "
        "minor units, lead time in days and the initial stock on hand. " + IDEMPOTENT),
    ("GET", "/products"): "Your products, newest first, with keyset pagination; `active` filters sold/unsold ones.",
    ("GET", "/products/{product_id}"): (
        "One product with its stock: `on_hand`, `reserved` (by payments in flight), `allocated` (paid) and "
        "`available` (what a new order can still get)."),
    ("PUT", "/products/{product_id}"): (
        "Change the name, unit price or lead time. Stock changes only through stock adjustments. Orders already "
        "placed keep their price."),
    ("POST", "/products/{product_id}/deactivate"): (
        "Stop selling the product: new orders naming its sku get `422 inactive_sku`; orders placed keep it."),
    ("POST", "/products/{product_id}/activate"): "Sell a deactivated product again.",
    ("POST", "/products/{product_id}/stock-adjustments"): (
        "Change the stock on hand by `delta` (positive: received, negative: lost or counted down) with a `reason`; "
        "recorded. It may not take the stock below what is reserved and allocated. " + IDEMPOTENT),
    ("GET", "/products/{product_id}/stock-adjustments"): "The product's stock adjustments, newest first.",
    # Cards
    ("POST", "/cards"): (
        "Save a card in the vault: the number is stored encrypted, the CVC only until the card's next payment. "
        "Answers a `card_…` token to pay with (`payment_method: {type: card_token, token}`), the brand, last 4 "
        "digits, expiry and a per-merchant `fingerprint` (the same card always has the same one). " + IDEMPOTENT),
    ("GET", "/cards"): "Your saved cards (a customer: its own).",
    ("GET", "/cards/{token}"): "One saved card by its token.",
    ("DELETE", "/cards/{token}"): "Delete a saved card: its token no longer pays.",
    # Events
    ("GET", "/events"): (
        "Your webhook events, newest first, each exactly as its webhook carried it (`id`, `type`, `created_at`, "
        "`data`) plus `delivery`: the delivery's status and every attempt with your endpoint's status code, the "
        "latency and the error. Filter by `type` (repeatable), `order_id` and creation time; keyset pagination "
        "with `cursor`. Use it to catch up on what your endpoint missed."),
    ("GET", "/events/{event_id}"): (
        "One event: the payload its webhook carried and every delivery attempt. The id is the webhook's "
        "`webhook-id` header. Another merchant's event is `404`."),
    # Callbacks
    ("POST", "/callbacks/{provider}"): (
        "For payment providers, not merchants: their asynchronous verdicts. The signature and timestamp are "
        "verified (`401` otherwise), each provider event is applied once, and a verdict is applied only when it "
        "matches the attempt (provider, reference, amount, currency)."),
    # Seed 001's routes
    ("POST", "/order/create"): (
        "Seed 001's route: creates an order like `POST /orders`, answered in seed 001's shape and status words "
        "(`NEW`, `PROCESSING`, `SUCCESS`, `FAILED`, `CANCELLED`)."),
    ("GET", "/order/{order_id}"): "Seed 001's route: an order like `GET /orders/{id}`, in seed 001's shape.",
    ("POST", "/payment/request"): "Seed 001's route: pays like `POST /payments`, answered in seed 001's shape.",
    ("POST", "/payment/callback"): "Seed 001's callback route: the sandbox provider's callbacks, as `POST /callbacks/sandbox`.",
    # Users
    ("POST", "/auth/register"): (
        "Register a customer of a merchant (`merchant_id`, `email`, `password`: 10-128 characters, not common, "
        "not containing the email). Answers tokens, as a login does."),
    ("POST", "/auth/login"): (
        "Log in with email and password (`merchant_id` for customers and staff, none for admins): a 15-minute "
        "access JWT and a 30-day refresh token. Repeated failures slow down (`429 too_many_attempts`)."),
    ("POST", "/auth/refresh"): (
        "Spend the refresh token for a new pair. A refresh token used twice revokes its whole login "
        "(`401 refresh_token_reused`)."),
    ("POST", "/auth/logout"): "End the login the refresh token belongs to: its access tokens stop working.",
    ("GET", "/me"): "The logged-in user.",
    ("POST", "/me/password"): "Change the password: every other session ends, the answer is a new login.",
    ("GET", "/me/notification-preferences"): (
        "Which notices go out by email and by SMS, per category. A customer reads its own; a merchant key or "
        "staff token reads the merchant's choice for guest customers (orders placed without a user)."),
    ("PUT", "/me/notification-preferences"): (
        "Choose email and/or SMS per category; nothing is sent on a channel switched off. A customer sets its "
        "own; a merchant key or staff token sets the choice for guest customers."),
    ("POST", "/staff"): "Create a staff user of your merchant (role `merchant`): it sees what the API key sees.",
    ("POST", "/admin/users"): "Create a user with any role (the first admin is created with `FXP_ADMIN_API_KEY`).",
    # Admin
    ("GET", "/admin/dead-letters"): "Worker messages whose retries ran out (a webhook that was never delivered...).",
    ("POST", "/admin/dead-letters/{message_id}/replay"): "Send one dead letter back to its queue.",
    ("POST", "/admin/dead-letters/replay"): "Send every dead letter back to its queue.",
    ("POST", "/admin/webhooks/{event_id}/resend"): (
        "Deliver an event's webhook again, with the same `webhook-id`, even if it was delivered. "
        "`409 webhook_endpoint_disabled` while the merchant's endpoint is disabled (it answered `410 Gone`), "
        "`409 webhook_endpoint_missing` when the merchant has no webhook URL."),
    ("GET", "/admin/audit"): (
        "The append-only audit trail, newest first: every operation with its type (order_creation, "
        "payment_processing, data_lookup...), status, actor, entities, correlation id, duration and error. "
        "Filter by type, status, actor, entity and time; keyset pagination with `cursor`."),
    ("GET", "/admin/merchants"): "Every merchant, newest first: name, webhook URL and whether it is enabled, active or not.",
    ("POST", "/admin/merchants"): (
        "Create a merchant: its API key (`sk_…`) and webhook secret (`whsec_…`) are in this answer only; "
        "we keep a hash of the key."),
    ("GET", "/admin/merchants/{merchant_id}"): "One merchant (no secrets).",
    ("PATCH", "/admin/merchants/{merchant_id}"): (
        "Change the name or the webhook URL (an absolute http(s) URL to a public address unless allowlisted)."),
    ("POST", "/admin/merchants/{merchant_id}/api-key/rotate"): (
        "A new API key, shown once; the current one keeps working until its grace period ends, then 401."),
    ("POST", "/admin/merchants/{merchant_id}/webhook-secret/rotate"): (
        "A new webhook signing secret, shown once; during the overlap webhooks carry a signature with each "
        "secret (Standard Webhooks allows several)."),
    ("POST", "/admin/merchants/{merchant_id}/webhooks/enable"): (
        "Deliver webhooks again to an endpoint disabled by a `410 Gone` (then resends are accepted again)."),
    ("POST", "/admin/merchants/{merchant_id}/deactivate"): (
        "Deactivate the merchant: its keys stop working at once; nothing is deleted."),
    ("GET", "/admin/overview"): "Today's (UTC) figures (orders, payments, success rate, refunds) and the queues' sizes.",
    ("GET", "/admin/orders"): "Search orders across merchants, newest first, by merchant, status, reference and time.",
    ("GET", "/admin/payments"): "Search payment attempts across merchants by provider, status, failure code and time.",
    ("GET", "/admin/orders/{order_id}/timeline"): (
        "Everything that happened to one order, oldest first: its events, payment attempts, refunds, webhook "
        "deliveries and audit records."),
    ("GET", "/admin/webhook-deliveries"): (
        "Webhook jobs, most recently changed first, with their status and last delivery attempt."),
    ("GET", "/admin/notifications"): (
        "Shopper email and SMS deliveries across merchants (one per event, channel and recipient), newest first, "
        "each with every attempt (outcome, latency, error, provider message id) and `in_doubt` (a send was cut off: "
        "the next sender looks the message up before sending). Filter by `status`, `channel`, `order_id`, "
        "`merchant_id`, `created_from`/`created_to`; keyset pagination with `cursor`."),
    ("GET", "/admin/orders.csv"): "The order search as CSV (every page, up to 100,000 rows), streamed.",
    ("GET", "/admin/reports/providers"): (
        "Per provider and UTC hour or day: attempts, success rate, captured and refunded amounts, failures by code, "
        "latency."),
    ("GET", "/admin/reports/providers.csv"): "The provider report as CSV.",
    ("GET", "/admin/refunds"): "Refunds in a status, newest first (`FAILED`: retries ran out, an operator must act).",
    ("POST", "/admin/refunds/{refund_id}/retry"): "Ask the provider again for a failed refund.",
    ("GET", "/admin/verdict-mismatches"): (
        "Provider verdicts refused because they did not match their attempt, with the refund of any capture "
        "they reported."),
    ("GET", "/admin/reviews"): "Payments held for review by a fraud rule, oldest first.",
    ("POST", "/admin/reviews/{payment_id}/approve"): "Let a held payment go on to the provider (at most once).",
    ("POST", "/admin/reviews/{payment_id}/reject"): "Fail a held payment with `fraud_rejected`.",
    ("GET", "/admin/merchants/{merchant_id}/fraud-rules"): "A merchant's fraud rules, in evaluation order.",
    ("PUT", "/admin/merchants/{merchant_id}/fraud-rules"): (
        "Replace a merchant's whole rule set; a set with one bad rule changes nothing. Rules run by ascending "
        "`priority`; the first that matches decides (allow, review, block)."),
    # Operations and docs
    ("GET", "/health"): "Liveness: the process answers. No dependency is checked.",
    ("GET", "/ready"): (
        "Readiness: each dependency's status and latency; `503` with `Retry-After` while PostgreSQL or Redis "
        "is down."),
    ("GET", "/metrics"): "Prometheus metrics (a token, or public when configured).",
    ("GET", "/problems"): (
        "Every problem `code` with its one HTTP status and its meaning (HTML with `Accept: text/html`)."),
    ("GET", "/problems/{code}"): (
        "One problem code: where a problem detail's `type` (`/problems/{code}`) points."),
}

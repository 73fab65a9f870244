"""Every problem `code` the API answers with, its one HTTP status and what it means.

400 is for requests that do not match the schema (types, formats, unknown fields or
parameters, encodings): fix the request. 422 is for well-formed requests that a business
rule refuses: the same request will keep being refused in this state. A code always comes
with the same status: this table decides it (problems.py looks the status up here)."""

from __future__ import annotations

PROBLEM_CODES: dict[str, tuple[int, str]] = {
    # 400: the request is malformed
    "validation_failed": (400, "The body or a parameter does not match the schema (type, format, range, "
                               "unknown field); `errors` names each field."),
    "malformed_request": (400, "The request is malformed."),
    "invalid_json": (400, "The body is not valid JSON: malformed, not UTF-8, or nested more than 32 levels deep."),
    "unknown_query_parameter": (400, "A query parameter this operation does not define."),
    "invalid_filter": (400, "A list filter has a value it does not take (an unknown type, status or actor kind, "
                            "or not in its kind:id form)."),
    "invalid_timestamp": (400, "A timestamp is not an RFC 3339 date-time with an offset."),
    "invalid_idempotency_key": (400, "Idempotency-Key must be 1-255 printable ASCII characters."),
    "malformed_callback": (400, "A provider callback body that cannot be parsed."),
    "bad_request": (400, "The request cannot be read."),
    "invalid_filter": (400, "A search or report filter is malformed, or contradicts another (min above max, "
                            "from after to)."),
    "range_too_large": (400, "A report range longer than its bucket allows (hour: 31 days, day: 366 days)."),
    # 401 / 403 / 404 / 405
    "unauthenticated": (401, "Missing or invalid credentials (`Authorization: Bearer <API key or access token>`)."),
    "invalid_token": (401, "The access token is invalid, tampered with, expired or not HS256."),
    "session_revoked": (401, "The access token's login was ended (logout, refresh-token reuse, password change)."),
    "invalid_credentials": (401, "Wrong email or password (the same answer for both)."),
    "invalid_refresh_token": (401, "The refresh token is unknown, expired or revoked."),
    "refresh_token_reused": (401, "A refresh token was used twice: its whole login is revoked; log in again."),
    "invalid_signature": (401, "A provider callback whose signature does not verify."),
    "invalid_callback": (401, "A provider callback that cannot be trusted."),
    "stale_callback": (401, "A provider callback outside the timestamp tolerance."),
    "forbidden": (403, "The key may not use this operation."),
    "credential_not_accepted": (403, "This operation does not take this kind of credential (see its security)."),
    "role_not_allowed": (403, "The caller's role may not use this operation (see its description)."),
    "csrf_failed": (403, "A dashboard form without this session's CSRF token (forged, or from an old page)."),
    "callback_source_refused": (403, "A provider callback from an address outside the provider's allowlist."),
    "not_found": (404, "No such resource for this merchant."),
    "method_not_allowed": (405, "The path does not support this method."),
    # 409: the resource's current state
    "conflict": (409, "The request conflicts with the resource's current state."),
    "invalid_state_transition": (409, "The order's current state does not allow this operation."),
    "duplicate_order": (409, "An order with this merchant_reference exists."),
    "retry_limit_reached": (409, "The order has used all its payment attempts."),
    "payment_in_progress": (409, "The order already has a payment attempt in flight."),
    "order_busy": (409, "Another request for this order is in progress; retry shortly."),
    "inconsistent_order": (409, "The order's records disagree; an operator must look at it."),
    "idempotency_key_in_use": (409, "A request with this Idempotency-Key is still being processed."),
    "insufficient_stock": (409, "Not enough stock is left for the items (`skus` names them)."),
    "sku_unavailable": (409, "A product of the order is no longer sold."),
    "duplicate_sku": (409, "A product with this sku exists."),
    "stock_already_held": (409, "The order already holds stock of this product."),
    "webhook_endpoint_disabled": (409, "The merchant's webhook endpoint is disabled (it answered 410 Gone): "
                                       "re-enable it before resending."),
    "webhook_endpoint_missing": (409, "The merchant has no webhook URL: there is nothing to resend to."),
    "email_taken": (409, "An account with this email exists for this merchant."),
    "merchant_deactivated": (409, "The merchant is deactivated: it can no longer be changed."),
    "no_webhook_url": (409, "The merchant has no webhook URL to enable; set one first."),
    # 413 / 415
    "request_too_large": (413, "The body is larger than the configured limit."),
    "unsupported_media_type": (415, "A JSON body must be sent as `Content-Type: application/json`."),
    # 422: well-formed, refused by a business rule
    "invalid_cursor": (422, "The cursor is not one this API issued (or names a time out of range); pass "
                            "`next_cursor` from a previous page."),
    "business_rule_violated": (422, "The request is well-formed but a business rule refuses it."),
    "items_total_mismatch": (422, "The items add up to a different total than the order amount."),
    "amount_required": (422, "Give an amount, or items to add up."),
    "item_incomplete": (422, "An item without a sku needs a name and a unit_amount."),
    "invalid_quantity": (422, "A quantity must be at least 1."),
    "quantity_too_large": (422, "More units of one sku than an order may have."),
    "unknown_sku": (422, "No product with this sku."),
    "inactive_sku": (422, "The product with this sku is not sold now."),
    "currency_mismatch": (422, "The product is priced in another currency than the order."),
    "price_mismatch": (422, "The unit_amount sent disagrees with the catalog price."),
    "invalid_lead_time": (422, "A lead time out of the allowed range of days."),
    "invalid_stock_delta": (422, "A stock adjustment must change the stock."),
    "reason_required": (422, "A stock adjustment needs a reason."),
    "stock_below_zero": (422, "The adjustment would take the stock below zero."),
    "stock_too_large": (422, "The adjustment would take the stock above its maximum."),
    "invalid_amount": (422, "The amount is not a positive integer number of minor units."),
    "amount_too_large": (422, "The amount is above the configured maximum."),
    "unknown_currency": (422, "The currency is not one this gateway supports."),
    "too_many_items": (422, "More line items than an order may have."),
    "payment_method_required": (422, "This provider needs a payment_method (a card or a card token)."),
    "unknown_provider": (422, "No payment provider with this name is configured."),
    "incorrect_number": (422, "The card number is not valid."),
    "invalid_expiry": (422, "The card's expiry month is not valid."),
    "expired_card": (422, "The card has expired."),
    "invalid_cvc": (422, "The card's CVC is not 3 or 4 digits."),
    "invalid_return_url": (422, "The return_url is not https (http only to loopback in test and dev)."),
    "webhook_target_refused": (422, "The webhook URL names a non-public address or local host the operator "
                                    "did not allowlist (FXP_WORKERS__WEBHOOK_ALLOWLIST)."),
    "invalid_webhook_url": (422, "The webhook URL is not an absolute http(s) URL without credentials."),
    "invalid_fraud_rule": (422, "A fraud rule's values are out of range (counts, scores, list sizes)."),
    "invalid_fraud_window": (422, "A fraud rule's window_s is not 1 second to 30 days."),
    "invalid_cidr": (422, "A block list entry is not an IP address or CIDR."),
    "invalid_bin": (422, "A block list entry is not a BIN (6-8 digits)."),
    "invalid_email_domain": (422, "A block list entry is not a lower-case domain name."),
    "duplicate_fraud_rule": (422, "Two rules of the set have the same id."),
    "idempotency_key_reused": (422, "This Idempotency-Key was used with a different request."),
    "invalid_email": (422, "The email is not a valid address."),
    "invalid_phone": (422, "The phone number is not E.164 (a plus, the country code, at most 15 digits)."),
    "invalid_preferences": (422, "A notification preference names an unknown category or channel."),
    "weak_password": (422, "The password is under 10 characters, common, one repeated character, or contains "
                           "the email."),
    "password_too_long": (422, "The password is over 128 characters."),
    "unknown_merchant": (422, "No merchant with this id."),
    "invalid_holder_name": (422, "The card holder name is empty, too long or not printable."),
    "invalid_card_token": (422, "The card token is unknown, deleted, or not usable for this order and caller."),
    # 429 / 5xx
    "rate_limited": (429, "Too many requests; retry after the time in Retry-After."),
    "too_many_attempts": (429, "Too many failed logins from this client; retry after the time in Retry-After."),
    "internal_error": (500, "An unexpected error; the request id identifies it in our logs."),
    "provider_unavailable": (503, "The payment provider cannot be reached; retry later."),
    "service_unavailable": (503, "A dependency of the API is down; retry after Retry-After."),
}


def status_of(code: str, default: int) -> int:
    """The status `code` is always answered with; `default` for a code not listed yet."""
    entry = PROBLEM_CODES.get(code)
    return entry[0] if entry else default

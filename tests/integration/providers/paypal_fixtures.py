"""PayPal response and webhook bodies, trimmed from the documented shapes.

Token: developer.paypal.com/api/rest/authentication (sample response). Orders:
developer.paypal.com/docs/api/orders/v2 (create -> PAYER_ACTION_REQUIRED with the
"payer-action" link; capture -> purchase_units[].payments.captures[]). Refund:
developer.paypal.com/docs/api/payments/v2/#captures_refund. Errors:
developer.paypal.com/api/rest/responses. Webhooks: developer.paypal.com/api/rest/webhooks
(event envelope) and /docs/api/webhooks/v1/#verify-webhook-signature.
"""

from __future__ import annotations

from typing import Any

from tests.integration.providers.builders import ATTEMPT_ID, ORDER_ID, REFUND_ID

ORDER_REF = "5O190127TN364715T"
CAPTURE_ID = "3C679366HH908993F"
REFUND_REF = "1JU08902781691411"
API = "https://api-m.sandbox.paypal.com"


def token(access_token: str = "A21AAFEpH4PsADK7qSS7pSRsgzfENtu-Q1ysgEDVDESseMHBYXVJYE8ovjj68elIDy8nF26AwPhf",
          expires_in: int = 32400) -> dict[str, Any]:
    return {"scope": "https://uri.paypal.com/services/invoicing https://uri.paypal.com/services/payments/refund",
            "access_token": access_token, "token_type": "Bearer", "app_id": "APP-80W284485P519543T",
            "expires_in": expires_in, "nonce": "2020-04-03T15:35:36ZaYZlGvEkV4yVSz8g6bAKFoGSEzuy3CQcz3ljhibkOHg"}


def links(order_id: str = ORDER_REF) -> list[dict[str, str]]:
    return [{"href": f"{API}/v2/checkout/orders/{order_id}", "rel": "self", "method": "GET"},
            {"href": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}", "rel": "payer-action",
             "method": "GET"}]


def purchase_unit(**fields: Any) -> dict[str, Any]:
    return {"reference_id": str(ORDER_ID), "custom_id": str(ATTEMPT_ID), "invoice_id": str(ATTEMPT_ID),
            "amount": {"currency_code": "USD", "value": "20.00"},
            "payee": {"email_address": "merchant@example.com", "merchant_id": "7KNGBPH2U58GQ"}, **fields}


def order(status: str = "PAYER_ACTION_REQUIRED", **fields: Any) -> dict[str, Any]:
    return {"id": ORDER_REF, "intent": "CAPTURE", "status": status, "payment_source": {"paypal": {}},
            "purchase_units": [purchase_unit()], "create_time": "2024-05-13T10:05:43Z", "links": links(), **fields}


def capture(status: str = "COMPLETED", **fields: Any) -> dict[str, Any]:
    return {
        "id": CAPTURE_ID, "status": status, "amount": {"currency_code": "USD", "value": "20.00"},
        "final_capture": True, "custom_id": str(ATTEMPT_ID), "invoice_id": str(ATTEMPT_ID),
        "seller_protection": {"status": "ELIGIBLE", "dispute_categories": ["ITEM_NOT_RECEIVED"]},
        "seller_receivable_breakdown": {"gross_amount": {"currency_code": "USD", "value": "20.00"},
                                        "paypal_fee": {"currency_code": "USD", "value": "0.98"},
                                        "net_amount": {"currency_code": "USD", "value": "19.02"}},
        "supplementary_data": {"related_ids": {"order_id": ORDER_REF}},
        "links": [{"href": f"{API}/v2/payments/captures/{CAPTURE_ID}", "rel": "self", "method": "GET"},
                  {"href": f"{API}/v2/payments/captures/{CAPTURE_ID}/refund", "rel": "refund", "method": "POST"}],
        "create_time": "2024-05-13T10:08:21Z", "update_time": "2024-05-13T10:08:21Z", **fields,
    }


def captured_order(capture_status: str = "COMPLETED", **capture_fields: Any) -> dict[str, Any]:
    unit = purchase_unit(payments={"captures": [capture(capture_status, **capture_fields)]})
    return {**order("COMPLETED"), "purchase_units": [unit],
            "payer": {"name": {"given_name": "John", "surname": "Doe"}, "email_address": "buyer@example.com",
                      "payer_id": "QYR5Z8XDVJNXQ"},
            "links": [{"href": f"{API}/v2/checkout/orders/{ORDER_REF}", "rel": "self", "method": "GET"}]}


def refund(status: str = "COMPLETED") -> dict[str, Any]:
    return {"id": REFUND_REF, "status": status, "amount": {"currency_code": "USD", "value": "20.00"},
            "custom_id": str(REFUND_ID), "invoice_id": str(REFUND_ID),
            "seller_payable_breakdown": {"gross_amount": {"currency_code": "USD", "value": "20.00"},
                                         "net_amount": {"currency_code": "USD", "value": "20.00"}},
            "links": [{"href": f"{API}/v2/payments/refunds/{REFUND_REF}", "rel": "self", "method": "GET"},
                      {"href": f"{API}/v2/payments/captures/{CAPTURE_ID}", "rel": "up", "method": "GET"}],
            "create_time": "2024-05-14T09:00:00Z"}


def error(name: str, issue: str, description: str, status: int = 422) -> dict[str, Any]:
    return {"name": name, "message": "The requested action could not be performed, semantically incorrect, "
            "or failed business validation.", "debug_id": "f8a3b2c1d0e9f",
            "details": [{"issue": issue, "description": description}],
            "links": [{"href": f"https://developer.paypal.com/api/rest/reference/orders/v2/errors/#{issue}",
                       "rel": "information_link", "method": "GET"}]}


def webhook(event_type: str, resource_type: str, resource: dict[str, Any],
            event_id: str = "WH-58D329510W468432D-8HN650336L201105X") -> dict[str, Any]:
    return {"id": event_id, "event_version": "1.0", "create_time": "2024-05-13T10:08:25.123Z",
            "resource_type": resource_type, "resource_version": "2.0", "event_type": event_type,
            "summary": f"{event_type} summary", "resource": resource,
            "links": [{"href": f"{API}/v1/notifications/webhooks-events/{event_id}", "rel": "self", "method": "GET"}]}

"""Every request example the OpenAPI document shows is one the API accepts: each is sent,
as served at /schema/openapi.json, to the running API and sandbox gateway (the ids of
resources a merchant would have - order, product, card, failed payment - put where the
placeholders stand), and must succeed. Every operation has a description of its own."""

from __future__ import annotations

import json
import uuid

from app.entrypoints.http.openapi_docs import CARD_TOKEN, MERCHANT_ID, ORDER_ID
from tests.e2e.conftest import wait_for_order

DECLINED = {"type": "card", "number": "4000000000000002", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
# Sent first: what later examples build on (the catalog order needs product MUG-1).
FIRST = ["/products", "/cards"]


async def test_every_operation_says_what_it_does(api):
    schema = (await api.get("/schema/openapi.json")).json()
    bare = [f"{method.upper()} {path}" for path, item in schema["paths"].items() for method, op in item.items()
            if len(op.get("description", "").split("\n\n")) < 2]  # more than the roles line
    assert bare == []
    assert set(schema["webhooks"]) >= {"order.status_changed", "payment.succeeded", "payment.failed",
                                       "refund.succeeded"}
    assert {"MerchantKey", "UserJWT", "AdminKey"} <= set(schema["components"]["securitySchemes"])


async def test_every_documented_request_example_is_accepted(api, merchant):
    schema = (await api.get("/schema/openapi.json")).json()
    examples = [(method.upper(), path, name, example["value"])
                for path, item in schema["paths"].items() for method, op in item.items()
                for name, example in op.get("requestBody", {}).get("content", {}).get(
                    "application/json", {}).get("examples", {}).items()]
    assert len(examples) >= 15
    examples.sort(key=lambda e: (e[1] not in FIRST, FIRST.index(e[1]) if e[1] in FIRST else 0))
    context = Context(api, merchant)
    sent = []
    for method, path, name, body in examples:
        target, body = await context.fill(path, body)
        response = await api.request(method, target, json=body,
                                     headers={**merchant.headers, "Idempotency-Key": str(uuid.uuid4())})
        assert 200 <= response.status_code < 300, f"{method} {path} example {name!r}: {response.text}"
        await context.learn(path, response.json() if response.content else None)
        sent.append(f"{method} {path} {name}")
    assert len(sent) == len(examples)


class Context:
    """The merchant's resources the examples name: made as a merchant would."""

    def __init__(self, api, merchant) -> None:
        self.api, self.merchant = api, merchant
        self.product_id: str | None = None
        self.card_token: str | None = None

    async def order(self) -> str:
        created = await self.api.post("/orders", headers=self.merchant.headers, json={"amount": 2500, "currency": "USD"})
        assert created.status_code == 201, created.text
        return created.json()["id"]

    async def failed_payment(self) -> str:
        order_id = await self.order()
        paid = await self.api.post("/payments", headers=self.merchant.headers,
                                   json={"order_id": order_id, "provider": "sandbox", "payment_method": DECLINED})
        assert paid.status_code == 202, paid.text
        await wait_for_order(self.api, self.merchant, order_id, {"PAYMENT_FAILED"})
        return paid.json()["id"]

    async def fill(self, path: str, body: dict) -> tuple[str, dict]:
        text = json.dumps(body)
        if ORDER_ID in text:
            text = text.replace(ORDER_ID, await self.order())
        text = text.replace(MERCHANT_ID, self.merchant.id).replace(CARD_TOKEN, self.card_token or CARD_TOKEN)
        target = path
        if "{order_id}" in path:
            target = path.replace("{order_id}", await self.order())
        if "{product_id}" in path:
            target = path.replace("{product_id}", self.product_id or "")
        if "{payment_id}" in path:
            target = path.replace("{payment_id}", await self.failed_payment())
        return target, json.loads(text)

    async def learn(self, path: str, answer: dict | None) -> None:
        if path == "/products" and answer:
            self.product_id = answer["id"]
        if path == "/cards" and answer:
            self.card_token = answer["token"]

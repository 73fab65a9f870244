"""Model-based test (issue 9): a Hypothesis state machine drives the real service with
random sequences of orders, modifications, payments with every sandbox card, retries,
cancellations, duplicate, out-of-order and forged callbacks, and checks the invariants
(tests/integration/model/invariants.py) after every step.

CI runs the "ci" profile; `FXP_HYPOTHESIS_PROFILE=long make test PYTEST_ARGS=tests/integration/model`
runs a longer search. Hypothesis steps are synchronous: the machine runs on a thread of its
own and hands each step's work to the session's event loop (where the pools live)."""

from __future__ import annotations

import asyncio
import os
import time
import uuid

import msgspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from sandbox_gateway.signing import signed_headers
from sandbox_gateway.test_cards import TEST_CARDS
from tests.integration.model.harness import Stack
from tests.integration.model.invariants import check_invariants
from tests.integration.sandbox.support import NEXT_YEAR, SECRET

settings.register_profile("ci", max_examples=20, stateful_step_count=20, deadline=None,
                          suppress_health_check=list(HealthCheck))
settings.register_profile("long", max_examples=200, stateful_step_count=40, deadline=None,
                          suppress_health_check=list(HealthCheck))
PROFILE = settings.get_profile(os.environ.get("FXP_HYPOTHESIS_PROFILE", "ci"))
CARDS = sorted(TEST_CARDS)
FORGERIES = ["amount", "currency", "merchant", "reference", "order", "attempt"]


def method(number: str) -> dict:
    return {"type": "card", "number": number, "exp_month": 12, "exp_year": NEXT_YEAR, "cvc": "123"}


class PaymentsMachine(RuleBasedStateMachine):
    stack: Stack
    loop: asyncio.AbstractEventLoop
    headers: dict[str, str]
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.order_ids: list[uuid.UUID] = []
        self.first_callback = len(self.stack.callbacks)  # this example's own deliveries only

    def run(self, work):
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=60)

    def call(self, method_: str, path: str, **kwargs) -> dict:
        response = self.run(self.stack.api.request(method_, path, headers=self.headers, **kwargs))
        assert response.status_code < 500, f"{method_} {path}: {response.status_code} {response.text}"
        self.run(self.stack.settle())
        return {"status_code": response.status_code, **(response.json() if response.content else {})}

    @rule(target=orders, amount=st.integers(1, 50_000))
    def create_order(self, amount: int) -> str:
        created = self.call("POST", "/orders", json={"amount": amount, "currency": "USD"})
        assert created["status_code"] == 201, created
        self.order_ids.append(uuid.UUID(created["id"]))
        return created["id"]

    @rule(order=orders, amount=st.integers(1, 50_000))
    def modify(self, order: str, amount: int) -> None:
        self.call("PUT", f"/orders/{order}", json={"amount": amount, "items": []})

    @rule(order=orders, card=st.sampled_from(CARDS))
    def pay(self, order: str, card: str) -> None:
        self.call("POST", "/payments", json={"order_id": order, "provider": "sandbox",
                                             "payment_method": method(card)})

    @rule(order=orders, card=st.sampled_from(CARDS))
    def retry(self, order: str, card: str) -> None:
        payments = self.call("GET", f"/orders/{order}")["payments"]
        if payments:
            self.call("POST", f"/payments/{payments[-1]['id']}/retry", json={"payment_method": method(card)})

    @rule(order=orders)
    def cancel(self, order: str) -> None:
        self.call("POST", f"/orders/{order}/cancel", json={})

    @rule(data=st.data())
    def replay_callback(self, data) -> None:
        """A delivery again: the latest (a duplicate) or an older one (out of order)."""
        delivered = self.stack.callbacks[self.first_callback:]
        if delivered:
            request = data.draw(st.sampled_from(delivered[-3:] + delivered[:1]))
            self.post_callback(request.content, dict(request.headers))

    @rule(data=st.data())
    def forged_signature(self, data) -> None:
        delivered = self.stack.callbacks[self.first_callback:]
        if delivered:
            body = data.draw(st.sampled_from(delivered)).content
            answer = self.post_callback(body, {**signed_headers("not-the-secret", body),
                                                "content-type": "application/json"})
            assert 400 <= answer["status_code"] < 500, answer

    @rule(data=st.data(), forgery=st.sampled_from(FORGERIES))
    def forged_verdict(self, data, forgery: str) -> None:
        """Signed with the real secret, but it does not report what the attempt charged."""
        succeeded = [r for r in self.stack.callbacks[self.first_callback:]
                     if msgspec.json.decode(r.content)["type"] == "payment.succeeded"]
        if not succeeded:
            return
        event = msgspec.json.decode(data.draw(st.sampled_from(succeeded)).content)
        payment = event["data"]
        changed = {"amount": {"amount": payment["amount"] + 1}, "currency": {"currency": "JPY"},
                   "reference": {"id": f"sbx_pay_forged{uuid.uuid4().hex[:12]}"},
                   "merchant": {"metadata": {**payment["metadata"], "merchant_id": str(uuid.uuid4())}},
                   "order": {"metadata": {**payment["metadata"], "order_id": str(uuid.uuid4())}},
                   "attempt": {"idempotency_key": str(uuid.uuid4())}}[forgery]
        body = msgspec.json.encode({**event, "id": f"evt_forged_{uuid.uuid4().hex}", "created": int(time.time()),
                                    "data": {**payment, **changed}})
        answer = self.post_callback(body, {**signed_headers(SECRET, body), "content-type": "application/json"})
        assert answer.get("status") in {"mismatch", "ignored", "unknown", "duplicate"} or answer["status_code"] >= 400, answer

    def post_callback(self, body: bytes, headers: dict[str, str]) -> dict:
        response = self.run(self.stack.api.post("/callbacks/sandbox", content=body, headers=headers))
        assert response.status_code < 500, response.text
        self.run(self.stack.settle())
        return {"status_code": response.status_code, **response.json()}

    @invariant()
    def service_agrees_with_itself_and_the_gateway(self) -> None:
        self.run(check_invariants(self.stack, self.order_ids))


async def test_payments_state_machine(settings, container) -> None:  # noqa: F811 (fixtures, not hypothesis')
    stack = Stack(settings, container)
    PaymentsMachine.stack, PaymentsMachine.loop = stack, asyncio.get_running_loop()
    PaymentsMachine.headers = await stack.start()
    try:
        await asyncio.to_thread(run_state_machine_as_test, PaymentsMachine, settings=PROFILE)
    finally:
        await stack.stop()

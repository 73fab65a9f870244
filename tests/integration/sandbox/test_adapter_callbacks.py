"""SandboxProvider.parse_callback: accepts what the gateway signs, rejects forged,
stale and malformed callbacks, and normalises every event type."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest

from app.adapters.providers.sandbox import SandboxProvider
from app.domain.errors import InvalidCallback, MalformedCallback
from app.domain.model.provider import CallbackKind, Outcome
from sandbox_gateway.signing import compute_signature, signed_headers
from tests.integration.sandbox.support import SECRET, sandbox_settings

NOW = 1_800_000_000
ATTEMPT_ID = uuid.uuid4()
REFUND_ID = uuid.uuid4()


@pytest.fixture
def adapter() -> SandboxProvider:
    return SandboxProvider(sandbox_settings(), clock=lambda: NOW)


def event_body(type_: str = "payment.succeeded", **data: Any) -> bytes:
    obj = {"object": "payment", "id": "sbx_pay_1", "idempotency_key": str(ATTEMPT_ID), "status": "succeeded",
           "amount": 1250, "currency": "USD", "failure_code": None, "failure_message": None,
           "metadata": {"attempt_id": str(ATTEMPT_ID), "order_id": str(uuid.uuid4())}, **data}
    return json.dumps({"id": "evt_1", "type": type_, "created": NOW - 2, "data": obj}).encode()


def signed(body: bytes, timestamp: int = NOW, secret: str = SECRET) -> dict[str, str]:
    return signed_headers(secret, body, timestamp)


async def test_a_validly_signed_payment_callback_is_accepted(adapter: SandboxProvider) -> None:
    body = event_body()

    event = await adapter.parse_callback(signed(body), body)

    assert (event.event_id, event.kind, event.attempt_id, event.refund_id) == ("evt_1", CallbackKind.PAYMENT,
                                                                             ATTEMPT_ID, None)
    assert (event.result.outcome, event.result.provider_reference) == (Outcome.SUCCEEDED, "sbx_pay_1")
    assert event.event_type == "payment.succeeded"


@pytest.mark.parametrize("case", [str.lower, str.upper, lambda name: name])
async def test_header_names_match_in_any_case(adapter: SandboxProvider, case: Any) -> None:
    body = event_body()

    event = await adapter.parse_callback({case(k): v for k, v in signed(body).items()}, body)

    assert event.result.outcome is Outcome.SUCCEEDED


async def test_failed_payment_carries_the_normalised_code(adapter: SandboxProvider) -> None:
    body = event_body("payment.failed", status="failed", failure_code="insufficient_funds", failure_message="low")

    result = (await adapter.parse_callback(signed(body), body)).result

    assert (result.outcome, result.failure_code, result.failure_message) == (Outcome.FAILED, "insufficient_funds",
                                                                              "low")


async def test_processing_event_is_a_pending_payment_event(adapter: SandboxProvider) -> None:
    body = event_body("payment.processing", status="pending")

    event = await adapter.parse_callback(signed(body), body)

    assert (event.kind, event.result.outcome, event.attempt_id) == (CallbackKind.PAYMENT, Outcome.PENDING, ATTEMPT_ID)


@pytest.mark.parametrize(("type_", "outcome", "code"), [("refund.succeeded", Outcome.SUCCEEDED, None),
                                                        ("refund.failed", Outcome.FAILED, "processing_error")])
async def test_refund_events(adapter: SandboxProvider, type_: str, outcome: Outcome, code: str | None) -> None:
    body = event_body(type_, object="refund", id="sbx_re_1", idempotency_key=str(REFUND_ID),
                      metadata={"refund_id": str(REFUND_ID), "attempt_id": str(ATTEMPT_ID)})

    event = await adapter.parse_callback(signed(body), body)

    assert (event.kind, event.refund_id, event.attempt_id) == (CallbackKind.REFUND, REFUND_ID, ATTEMPT_ID)
    assert (event.result.outcome, event.result.failure_code, event.result.provider_reference) == (outcome, code,
                                                                                                 "sbx_re_1")


async def test_attempt_id_falls_back_to_the_idempotency_key(adapter: SandboxProvider) -> None:
    body = event_body(metadata={})

    assert (await adapter.parse_callback(signed(body), body)).attempt_id == ATTEMPT_ID


async def test_unknown_event_types_are_verified_and_ignored(adapter: SandboxProvider) -> None:
    body = json.dumps({"id": "evt_9", "type": "payout.paid", "created": NOW, "data": {"whatever": 1}}).encode()

    event = await adapter.parse_callback(signed(body), body)

    assert (event.kind, event.event_id, event.event_type) == (CallbackKind.IGNORED, "evt_9", "payout.paid")


async def test_one_valid_signature_among_several_is_enough(adapter: SandboxProvider) -> None:
    body = event_body()
    headers = signed(body)
    headers["X-Sandbox-Signature"] = f"v1={'0' * 64}, {headers['X-Sandbox-Signature']}"

    assert (await adapter.parse_callback(headers, body)).event_id == "evt_1"


def forged_cases() -> list[Any]:
    body = event_body()
    good = signed(body)
    return [
        pytest.param(signed(body, secret="not-the-secret"), body, id="wrong-secret"),
        pytest.param(good, event_body(amount=1), id="tampered-body"),
        pytest.param({**good, "X-Sandbox-Timestamp": str(NOW - 1)}, body, id="timestamp-swapped"),
        pytest.param({**good, "X-Sandbox-Signature": "v1=" + "ab" * 32}, body, id="made-up-signature"),
        pytest.param({**good, "X-Sandbox-Signature": "garbage"}, body, id="unreadable-signature"),
        pytest.param({**good, "X-Sandbox-Signature": "v1=é"}, body, id="non-ascii-signature"),
        pytest.param({"X-Sandbox-Timestamp": str(NOW)}, body, id="no-signature"),
        pytest.param({"X-Sandbox-Signature": good["X-Sandbox-Signature"]}, body, id="no-timestamp"),
        pytest.param({**good, "X-Sandbox-Timestamp": "yesterday"}, body, id="non-numeric-timestamp"),
        pytest.param({**good, "X-Sandbox-Timestamp": "\u0661\u0662"}, body, id="non-ascii-digits-timestamp"),
        pytest.param({}, body, id="no-headers"),
    ]


@pytest.mark.parametrize(("headers", "body"), forged_cases())
async def test_forged_callbacks_are_rejected(adapter: SandboxProvider, headers: dict[str, str], body: bytes) -> None:
    with pytest.raises(InvalidCallback) as raised:
        await adapter.parse_callback(headers, body)

    assert raised.value.code == "invalid_signature"


@pytest.mark.parametrize("age_s", [301, 3600, -301])
async def test_stale_or_future_callbacks_are_rejected(adapter: SandboxProvider, age_s: int) -> None:
    body = event_body()

    with pytest.raises(InvalidCallback) as raised:
        await adapter.parse_callback(signed(body, timestamp=NOW - age_s), body)

    assert raised.value.code == "stale_callback"


async def test_a_callback_just_inside_the_tolerance_is_accepted(adapter: SandboxProvider) -> None:
    body = event_body()

    assert (await adapter.parse_callback(signed(body, timestamp=NOW - 299), body)).event_id == "evt_1"


@pytest.mark.parametrize("body", [
    pytest.param(b"{not json", id="not-json"),
    pytest.param(b"[]", id="not-an-object"),
    pytest.param(json.dumps({"type": "payment.succeeded", "created": NOW, "data": {}}).encode(), id="no-id"),
    pytest.param(json.dumps({"id": "evt_1", "type": "payment.succeeded", "created": NOW}).encode(), id="no-data"),
    pytest.param(json.dumps({"id": "evt_1", "type": "payment.succeeded", "created": NOW,
                             "data": {"status": "succeeded"}}).encode(), id="data-without-object-id"),
    pytest.param(event_body(metadata={}, idempotency_key="not-a-uuid"), id="no-attempt-id"),
    pytest.param(event_body("refund.succeeded", metadata={}, idempotency_key=""), id="no-refund-id"),
])
async def test_malformed_callbacks_are_rejected(adapter: SandboxProvider, body: bytes) -> None:
    with pytest.raises(MalformedCallback) as raised:
        await adapter.parse_callback(signed(body), body)

    assert raised.value.code == "malformed_callback"


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"k", b"123.{}", hashlib.sha256).hexdigest()

    assert compute_signature("k", 123, b"{}") == f"v1={expected}"
    assert signed_headers("k", b"{}", 123) == {"X-Sandbox-Timestamp": "123", "X-Sandbox-Signature": f"v1={expected}"}

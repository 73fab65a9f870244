"""ResilientProvider: timeouts, stamina retries, the aiobreaker circuit, fallbacks, metrics.

Driven through the card-processor adapter over respx (real HTTP plumbing) and, for
hangs, through a provider that never answers.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping

import httpx
import pytest
import respx
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from app.adapters.providers.card_processor import CardProcessorProvider, CardProcessorSettings
from app.adapters.providers.paypal import PayPalProvider, PayPalSettings
from app.adapters.providers.resilience import ResiliencePolicy, ResilientProvider
from app.domain.errors import InvalidCallback, ProviderUnavailable
from app.domain.model.money import Money
from app.domain.model.provider import Outcome, PaymentRequest, ProviderEvent, ProviderResult, RefundRequest
from tests.integration.providers import paypal_fixtures as paypal_fx
from tests.integration.providers.builders import ATTEMPT_ID, card, payment_request, refund_request

BASE = "https://api.card-processor.test"
API_KEY = "cp_key_never_in_logs"
FAST = ResiliencePolicy(call_timeout_s=1.0, attempts=3, wait_initial_s=0.001, wait_max_s=0.005, wait_jitter_s=0,
                        retry_budget_s=5.0, max_retry_after_s=1.0, breaker_fail_max=50, breaker_reset_s=60)
APPROVED = {"id": "auth_1", "reference": str(ATTEMPT_ID), "status": "approved", "response_code": "00"}


def calls(operation: str, outcome: str, provider: str = "card") -> float:
    labels = {"provider": provider, "operation": operation, "outcome": outcome}
    return REGISTRY.get_sample_value("fxp_provider_calls_total", labels) or 0.0


def timings(operation: str, provider: str = "card") -> float:
    labels = {"provider": provider, "operation": operation}
    return REGISTRY.get_sample_value("fxp_provider_call_duration_seconds_count", labels) or 0.0


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


@pytest.fixture
def inner(http_client):
    return CardProcessorProvider(CardProcessorSettings(api_key=API_KEY, api_base=BASE, timeout_s=0.5), http_client)


def resilient(inner, **policy) -> ResilientProvider:
    fields = {name: getattr(FAST, name) for name in FAST.__struct_fields__}
    return ResilientProvider(inner, ResiliencePolicy(**{**fields, **policy}))


async def test_transient_failures_are_retried_with_the_same_idempotency_key(api, inner):
    route = api.post("/v1/authorizations").mock(side_effect=[
        httpx.ConnectError("refused"), httpx.Response(503), httpx.Response(201, json=APPROVED)])
    before, timed = calls("purchase", "succeeded"), timings("purchase")
    result = await resilient(inner).purchase(payment_request())
    assert (result.outcome, route.call_count) == (Outcome.SUCCEEDED, 3)
    assert {c.request.headers["idempotency-key"] for c in route.calls} == {str(ATTEMPT_ID)}
    assert calls("purchase", "succeeded") == before + 1 and timings("purchase") == timed + 1


async def test_a_verdict_is_never_retried(api, inner):
    route = api.post("/v1/authorizations").respond(201, json={**APPROVED, "status": "declined", "response_code": "51"})
    result = await resilient(inner).purchase(payment_request())
    assert (result.outcome, result.failure_code, route.call_count) == (Outcome.FAILED, "insufficient_funds", 1)


async def test_exhausted_retries_that_may_have_reached_the_provider_are_unknown(api, inner):
    route = api.post("/v1/authorizations").mock(side_effect=httpx.ReadTimeout("slow"))
    before = calls("purchase", "unknown")
    result = await resilient(inner).purchase(payment_request())
    assert (result.outcome, route.call_count) == (Outcome.UNKNOWN, 3)
    assert calls("purchase", "unknown") == before + 1
    # an early try that may have landed keeps the verdict unknown, however the last try failed
    route.mock(side_effect=[httpx.Response(500), httpx.ConnectError("refused"), httpx.ConnectError("refused")])
    assert (await resilient(inner).purchase(payment_request())).outcome is Outcome.UNKNOWN


async def test_exhausted_retries_that_surely_never_arrived_are_provider_unavailable(api, inner):
    api.post("/v1/authorizations").mock(side_effect=httpx.ConnectError("refused"))
    before = calls("purchase", "unavailable")
    result = await resilient(inner).purchase(payment_request())
    assert (result.outcome, result.failure_code) == (Outcome.FAILED, "provider_unavailable")
    assert calls("purchase", "unavailable") == before + 1
    api.post("/v1/refunds").mock(side_effect=httpx.Response(429))
    refund = await resilient(inner).refund(refund_request("auth_1"))
    assert (refund.outcome, refund.failure_code) == (Outcome.FAILED, "provider_unavailable")


async def test_get_status_never_fails_a_payment_for_transport_reasons(api, inner):
    api.get("/v1/authorizations/auth_1").mock(side_effect=httpx.ConnectError("refused"))
    result = await resilient(inner).get_status(ATTEMPT_ID, "auth_1")
    assert result.outcome is Outcome.UNKNOWN


async def test_retry_after_is_honoured(api, inner):
    route = api.post("/v1/authorizations").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "0.3"}), httpx.Response(201, json=APPROVED)])
    started = time.perf_counter()
    assert (await resilient(inner).purchase(payment_request())).outcome is Outcome.SUCCEEDED
    assert time.perf_counter() - started >= 0.3 and route.call_count == 2


async def test_retry_after_beyond_the_cap_gives_up_at_once(api, inner):
    route = api.post("/v1/authorizations").respond(429, headers={"Retry-After": "120"})
    started = time.perf_counter()
    result = await resilient(inner).purchase(payment_request())
    assert (result.failure_code, route.call_count) == ("provider_unavailable", 1)
    assert time.perf_counter() - started < 0.5


async def test_rejected_credentials_are_not_retried(api, inner):
    route = api.post("/v1/authorizations").respond(401, json={"error": {"message": "bad key"}})
    result = await resilient(inner).purchase(payment_request())
    assert (result.failure_code, route.call_count) == ("provider_unavailable", 1)


async def test_breaker_opens_after_n_failures_then_fails_fast_then_recovers(api, inner):
    route = api.post("/v1/authorizations").mock(side_effect=httpx.ConnectError("refused"))
    provider = resilient(inner, attempts=1, breaker_fail_max=3, breaker_reset_s=0.2)
    for _ in range(3):
        assert (await provider.purchase(payment_request())).failure_code == "provider_unavailable"
    assert route.call_count == 3
    before = calls("purchase", "circuit_open")
    started = time.perf_counter()
    fast = await provider.purchase(payment_request())
    assert (fast.outcome, fast.failure_code, route.call_count) == (Outcome.FAILED, "provider_unavailable", 3)
    assert time.perf_counter() - started < 0.05
    assert calls("purchase", "circuit_open") == before + 1
    assert (await provider.get_status(ATTEMPT_ID, "auth_1")).outcome is Outcome.UNKNOWN  # same breaker
    await asyncio.sleep(0.25)
    route.mock(side_effect=None, return_value=httpx.Response(201, json=APPROVED))
    assert (await provider.purchase(payment_request())).outcome is Outcome.SUCCEEDED  # the trial call
    assert provider.breaker.current_state.name == "CLOSED"


async def test_the_call_that_trips_the_breaker_keeps_its_unknown_verdict(api, inner):
    api.post("/v1/authorizations").mock(side_effect=httpx.ReadTimeout("slow"))
    provider = resilient(inner, attempts=2, breaker_fail_max=2)
    assert (await provider.purchase(payment_request())).outcome is Outcome.UNKNOWN  # its 2nd try opened it
    assert provider.breaker.current_state.name == "OPEN"
    assert (await provider.purchase(payment_request())).failure_code == "provider_unavailable"


class HangingProvider:
    """Any PaymentProvider (the sandbox's too) can be wrapped; this one never answers."""

    name = "hanging"
    needs_payment_method = True

    async def purchase(self, request: PaymentRequest) -> ProviderResult:
        await asyncio.sleep(10)
        raise AssertionError("unreachable")

    async def refund(self, request: RefundRequest) -> ProviderResult:
        await asyncio.sleep(10)
        raise AssertionError("unreachable")

    async def get_status(self, attempt_id: uuid.UUID, provider_reference: str | None,
                         amount: Money | None = None) -> ProviderResult:
        await asyncio.sleep(10)
        raise AssertionError("unreachable")

    async def parse_callback(self, headers: Mapping[str, str], body: bytes) -> ProviderEvent:
        raise InvalidCallback("forged")


async def test_every_call_has_a_timeout():
    provider = resilient(HangingProvider(), call_timeout_s=0.05, attempts=2)
    started = time.perf_counter()
    assert (await provider.purchase(payment_request())).outcome is Outcome.UNKNOWN
    assert (await provider.get_status(ATTEMPT_ID, None)).outcome is Outcome.UNKNOWN
    assert time.perf_counter() - started < 1.0
    before = calls("parse_callback", "rejected", "hanging")
    with pytest.raises(InvalidCallback):
        await provider.parse_callback({}, b"{}")
    assert calls("parse_callback", "rejected", "hanging") == before + 1
    assert provider.breaker.fail_counter == 4  # callbacks do not touch the breaker


async def test_callback_verification_outage_becomes_provider_unavailable(http_client):
    settings = PayPalSettings(client_id="id", client_secret="secret", webhook_id="WH1", api_base=BASE)
    with respx.mock(base_url=BASE, assert_all_called=False) as api:
        api.post("/v1/oauth2/token").respond(200, json=paypal_fx.token())
        verify = api.post("/v1/notifications/verify-webhook-signature").respond(503)
        provider = resilient(PayPalProvider(settings, http_client))
        headers = {"PAYPAL-AUTH-ALGO": "SHA256withRSA", "PAYPAL-CERT-URL": "https://api.paypal.com/cert",
                   "PAYPAL-TRANSMISSION-ID": "t1", "PAYPAL-TRANSMISSION-SIG": "sig",
                   "PAYPAL-TRANSMISSION-TIME": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        body = b'{"id": "WH-1", "event_type": "PAYMENT.CAPTURE.COMPLETED", "resource": {}}'
        with pytest.raises(ProviderUnavailable):
            await provider.parse_callback(headers, body)
        assert verify.call_count == 3


async def test_logs_and_results_never_carry_card_numbers_or_keys(api, inner):
    api.post("/v1/authorizations").mock(side_effect=httpx.ReadTimeout("slow"))
    with capture_logs() as logs:
        result = await resilient(inner).purchase(payment_request(card("4000000000009995")))
    # stamina logs each retry (a retry_context block: no call arguments), we log giving up
    assert [entry["event"] for entry in logs] == ["stamina.retry_scheduled"] * 2 + ["provider_call_gave_up"]
    text = repr(logs) + repr(result)
    assert "4000000000009995" not in text and API_KEY not in text

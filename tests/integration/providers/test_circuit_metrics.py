"""fxp_circuit_breaker_state follows a provider's real aiobreaker circuit: closed when
built, open once consecutive transport failures trip it."""

from __future__ import annotations

import httpx
import respx
from prometheus_client import REGISTRY

from app.adapters.providers.card_processor import CardProcessorProvider, CardProcessorSettings
from app.adapters.providers.resilience import ResiliencePolicy, ResilientProvider
from tests.integration.providers.builders import payment_request

BASE = "https://api.card-breaker.test"


def state(provider: str) -> float | None:
    return REGISTRY.get_sample_value("fxp_circuit_breaker_state", {"provider": provider})


async def test_the_gauge_shows_the_circuit_opening(http_client):
    inner = CardProcessorProvider(CardProcessorSettings(api_key="k", api_base=BASE, timeout_s=0.5), http_client)
    inner.name = "card-breaker-test"
    provider = ResilientProvider(inner, ResiliencePolicy(
        call_timeout_s=1.0, attempts=1, wait_initial_s=0.001, wait_max_s=0.001, wait_jitter_s=0,
        retry_budget_s=1.0, max_retry_after_s=0.1, breaker_fail_max=2, breaker_reset_s=60))
    assert state("card-breaker-test") == 0
    with respx.mock(base_url=BASE) as api:
        api.post("/v1/authorizations").mock(side_effect=httpx.ConnectError("refused"))
        for _ in range(3):
            await provider.purchase(payment_request())
    assert state("card-breaker-test") == 2

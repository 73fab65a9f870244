"""return_url: what a shopper may be sent back to, that it reaches the provider, and the\nredirect_url of an attempt that needs the shopper."""

from __future__ import annotations

import pytest

from app.domain.errors import ValidationFailed
from app.domain.model.provider import Outcome, ProviderResult
from app.domain.model.return_url import checked_return_url
from tests.unit.test_payment_service import CARD, World

ALWAYS_FINE = ["https://shop.example/orders/42/paid?x=1#top", "https://[2001:db8::1]:8443/back",
               "https://localhost/back"]
LOOPBACK_HTTP = ["http://localhost:3000/back", "http://127.0.0.1/back", "http://127.8.9.10:8080/",
                 "http://[::1]:5000/back", "http://LOCALHOST/back"]
NEVER = ["http://shop.example/back", "http://10.0.0.5/back", "javascript:alert(1)", "data:text/html,hi",
         "ftp://shop.example/back", "/relative/back", "https://", "https://user:secret@shop.example/back",
         "https://shop.example/a b", "https://shop.example/\nSet-Cookie:x", "https://shop.example:99999/",
         "myapp://back", "https://" + "a" * 2050 + ".example/"]


@pytest.mark.parametrize("url", ALWAYS_FINE + LOOPBACK_HTTP)
def test_https_anywhere_and_http_to_loopback_in_test_and_dev(url):
    assert checked_return_url(url, allow_http_loopback=True) == url


@pytest.mark.parametrize("url", ALWAYS_FINE)
def test_https_is_fine_in_production(url):
    assert checked_return_url(url, allow_http_loopback=False) == url


@pytest.mark.parametrize("url", NEVER + [pytest.param(url, id=f"prod-{url}") for url in LOOPBACK_HTTP])
def test_everything_else_is_refused_with_a_stable_code(url):
    allow = url not in LOOPBACK_HTTP
    with pytest.raises(ValidationFailed) as refused:
        checked_return_url(url, allow_http_loopback=allow)
    assert refused.value.code == "invalid_return_url"
    assert refused.value.details["field"] == "return_url"


async def test_the_return_url_is_kept_on_the_attempt_and_sent_to_the_provider():
    world = World()
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD,
                                           return_url="https://shop.example/orders/42/back")
    await world.payments.dispatch(attempt.id)
    assert [p.return_url for p in world.provider.purchases] == ["https://shop.example/orders/42/back"]
    _, attempts, _ = await world.state()
    assert attempts[0].return_url == "https://shop.example/orders/42/back"


async def test_a_refused_return_url_writes_nothing():
    world = World()  # a production policy: no plain http at all
    with pytest.raises(ValidationFailed):
        await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD,
                                     return_url="http://localhost:3000/back")
    order, attempts, _ = await world.state()
    assert (order.status.value, attempts) == ("CREATED", [])


async def test_an_attempt_needing_the_shopper_is_pending_with_the_redirect_and_tells_the_merchant_once():
    world = World()
    redirect = "https://sandbox.example/_sandbox/3ds/sbx_pay_1"
    world.provider.default = ProviderResult(Outcome.PENDING, "sbx_pay_1", redirect_url=redirect)
    attempt = await world.payments.request(world.order.merchant_id, world.order.id, "sandbox", CARD,
                                           return_url="https://shop.example/back")
    await world.payments.dispatch(attempt.id)
    await world.payments.settle(attempt.id, ProviderResult(Outcome.PENDING, "sbx_pay_1", redirect_url=redirect))
    order, attempts, _ = await world.state()
    assert (order.status.value, attempts[0].status.value, attempts[0].redirect_url) == \
        ("PAYMENT_IN_PROGRESS", "PENDING", redirect)
    assert [(e.payload["redirect_url"], e.payload["return_url"]) for e in world.events("payment.requires_action")] \
        == [(redirect, "https://shop.example/back")]

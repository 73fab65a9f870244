"""Our outbound HTTP clients keep no cookies: what a provider or a merchant's webhook
endpoint sets is never stored, so never sent back."""

from __future__ import annotations

import httpx

from app.adapters.no_cookies import KeepNoCookies
from app.adapters.providers.http import ProviderHttp


def _server(seen: list[httpx.Request]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={}, headers={"set-cookie": "session=secret; Path=/"})
    return httpx.MockTransport(answer)


async def test_a_cookie_set_by_the_server_is_not_kept_nor_sent_back():
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(cookies=KeepNoCookies(), transport=_server(seen)) as client:
        for _ in range(2):
            assert (await client.get("https://provider.example/v1/payments")).status_code == 200
        client.cookies.set("manual", "value", domain="provider.example")
        await client.get("https://provider.example/v1/payments")
        assert len(client.cookies) == 0
    assert [request.headers.get("cookie") for request in seen] == [None, None, None]


async def test_the_default_httpx_client_would_have_sent_it_back():
    # What the jar is for: the same exchange on httpx's own default jar.
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=_server(seen)) as client:
        for _ in range(2):
            await client.get("https://provider.example/v1/payments")
    assert [request.headers.get("cookie") for request in seen] == [None, "session=secret"]


def test_provider_clients_keep_no_cookies():
    http = ProviderHttp("sandbox", "https://provider.example", 5.0)
    assert isinstance(http._client.cookies.jar, KeepNoCookies)


def test_webhook_and_sms_clients_keep_no_cookies():
    from app.adapters.notify.sms import TwilioSmsSender
    from app.adapters.notify.webhooks import StandardWebhookSender

    webhooks = StandardWebhookSender(5.0, guard=None, transport=httpx.MockTransport(lambda r: httpx.Response(204)))  # type: ignore[arg-type]
    sms = TwilioSmsSender("AC1", "token", "+15550001111")
    assert isinstance(webhooks._http().cookies.jar, KeepNoCookies)
    assert isinstance(sms._client.cookies.jar, KeepNoCookies)

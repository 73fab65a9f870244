"""Callback source allowlists per provider, HSTS only over HTTPS, CORS only when configured."""

from __future__ import annotations

import dataclasses

import httpx
import msgspec

from tests.integration.test_http_edge import edge_app


def app_with(container, **api):
    return edge_app(container, **api)


async def call(app, method: str, path: str, client=("127.0.0.1", 5000), base="http://edge.test", **kwargs):
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url=base) as edge:
        return await edge.request(method, path, **kwargs)


async def test_callbacks_from_outside_the_providers_allowlist_are_refused(client, container):
    app = app_with(container, callback_allowlist="sandbox=10.20.0.0/16 stripe=192.0.2.1")
    refused = await call(app, "POST", "/callbacks/sandbox", content=b"{}", client=("203.0.113.5", 1))
    assert refused.status_code == 403 and refused.json()["code"] == "callback_source_refused"
    legacy = await call(app, "POST", "/payment/callback", content=b"{}", client=("203.0.113.5", 1))
    assert legacy.status_code == 403
    allowed = await call(app, "POST", "/callbacks/sandbox", content=b"{}", client=("10.20.3.4", 1))
    assert allowed.status_code == 401  # let through: then the signature decides (none here)
    unlisted = await call(app, "POST", "/callbacks/paypal", content=b"{}", client=("203.0.113.5", 1))
    assert unlisted.status_code != 403  # no allowlist for this provider


async def test_forwarded_for_counts_only_from_a_trusted_proxy(client, container):
    spoofed = {"X-Forwarded-For": "10.20.3.4"}
    untrusted = app_with(container, callback_allowlist="sandbox=10.20.0.0/16")
    assert (await call(untrusted, "POST", "/callbacks/sandbox", content=b"{}", headers=spoofed,
                       client=("203.0.113.5", 1))).status_code == 403
    trusted = app_with(container, callback_allowlist="sandbox=10.20.0.0/16", trusted_proxies="203.0.113.0/24")
    assert (await call(trusted, "POST", "/callbacks/sandbox", content=b"{}", headers=spoofed,
                       client=("203.0.113.5", 1))).status_code == 401


async def test_hsts_only_over_https(client, container):
    app = app_with(container)
    plain = await call(app, "GET", "/health")
    secure = await call(app, "GET", "/health", base="https://edge.test")
    assert "strict-transport-security" not in plain.headers
    assert secure.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_cors_is_off_unless_configured(client, container):
    preflight = {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    off = await call(app_with(container), "OPTIONS", "/orders", headers=preflight)
    assert "access-control-allow-origin" not in off.headers
    on = await call(app_with(container, cors_origins="https://shop.example"), "OPTIONS", "/orders",
                    headers=preflight)
    assert on.headers["access-control-allow-origin"] == "https://shop.example"
    other = await call(app_with(container, cors_origins="https://shop.example"), "GET", "/health",
                       headers={"Origin": "https://evil.example"})
    assert other.headers.get("access-control-allow-origin") != "https://evil.example"

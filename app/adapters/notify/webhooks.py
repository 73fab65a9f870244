"""Merchant webhook delivery over HTTP, signed per Standard Webhooks (`standardwebhooks`):
`webhook-id` (the event id, the same on every retry), `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256>` over `id.timestamp.body`."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from app.adapters.no_cookies import KeepNoCookies
from app.adapters.notify.pinned_transport import PinnedTransport, pinned
from app.adapters.notify.target_guard import TargetRefused, WebhookTargetGuard
from app.domain.model.webhook_url import redact_url
from app.domain.services.notifications import WebhookResponse

USER_AGENT = "FusionXPay-Webhooks/1.0"
logger = structlog.get_logger("fusionxpay.webhooks")


def signed_request(secret: str, webhook_id: str, message: dict[str, Any],
                   correlation_id: str | None, now: datetime | None = None,
                   also_sign_with: tuple[str, ...] = ()) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(message, separators=(",", ":"), default=str)
    now = now or datetime.now(UTC)
    # Several signatures, space-separated (Standard Webhooks): during a secret rotation's
    # overlap a receiver verifies with either secret.
    signatures = " ".join(Webhook(key).sign(webhook_id, now, body) for key in (secret, *also_sign_with))
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
    }
    if correlation_id:
        headers["x-correlation-id"] = correlation_id
    return body.encode(), headers


class StandardWebhookSender:
    def __init__(self, timeout_s: float, guard: WebhookTargetGuard,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._timeout_s = timeout_s
        self._guard = guard
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        # Made on first use so it belongs to the event loop that sends. Redirects are not
        # followed: a 3xx to a private address would slip past the target check.
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False, trust_env=False,
                                             cookies=KeepNoCookies(),
                                             transport=self._transport or PinnedTransport())
        return self._client

    async def send(self, url: str, secret: str, webhook_id: str, message: dict[str, Any],
                   correlation_id: str | None, also_sign_with: tuple[str, ...] = ()) -> WebhookResponse:
        shown_url = redact_url(url)
        try:
            target = await self._guard.check(url)
        except TargetRefused as refused:
            logger.warning("webhook_refused", url=shown_url, webhook_id=webhook_id, reason=str(refused))
            return WebhookResponse(None, 0, str(refused), refused=True)
        try:
            body, headers = signed_request(secret, webhook_id, message, correlation_id,
                                           also_sign_with=also_sign_with)
        except (ValueError, EmptyWebhookSecretError) as exc:  # not base64 after "whsec_": a config error
            return WebhookResponse(None, 0, f"unusable webhook secret: {type(exc).__name__}", refused=True)
        started = time.perf_counter()
        try:
            with pinned(target):
                response = await self._http().post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            latency_ms = round((time.perf_counter() - started) * 1000)
            error = redact_url(f"{type(exc).__name__}: {exc}")[:500]
            logger.info("webhook_failed", url=shown_url, webhook_id=webhook_id, error=error, latency_ms=latency_ms)
            return WebhookResponse(None, latency_ms, error)
        latency_ms = round((time.perf_counter() - started) * 1000)
        ok = 200 <= response.status_code < 300
        logger.info("webhook_sent" if ok else "webhook_rejected", url=shown_url, webhook_id=webhook_id,
                    status_code=response.status_code, latency_ms=latency_ms)
        return WebhookResponse(response.status_code, latency_ms, None if ok else f"HTTP {response.status_code}")

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

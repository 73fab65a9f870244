"""SMS through a Twilio-shaped REST API (Programmable Messaging, 2010-04-01):

    POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json
    Authorization: Basic base64(AccountSid:AuthToken)
    Content-Type: application/x-www-form-urlencoded      To=+1...&From=+1...&Body=...
    -> 201 {"sid": "SM...", "status": "queued", ...}
    -> 4xx/5xx {"code": 21211, "message": "...", "more_info": "https://...", "status": 400}

2xx: accepted. 429 and 5xx (and network errors): tried again later, a 429's Retry-After
honoured. Other 4xx (invalid number 21211, unsubscribed 21610, bad credentials 20003...)
are refused for good: dead-lettered, never retried into the same answer. No answer after
the request went out (a read timeout, a dropped connection) is `unknown`: Twilio may hold
the message, so the next attempt looks first.

The look-up (MessageLookup) reads the documented Messages list, filtered by `To` and `From`
(newest first, one page of 50), and matches the body we sent (its digest, recorded before
sending) among messages created since the send began:

    GET {base}/2010-04-01/Accounts/{AccountSid}/Messages.json?To=+1...&From=+1...&PageSize=50
    -> 200 {"messages": [{"sid", "to", "from", "body", "date_created": RFC 2822, ...}], ...}"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from app.adapters.no_cookies import KeepNoCookies
from app.domain.ports_notifications import RenderedMessage, SendResult

MAX_BODY = 1600  # the API's limit on Body
CLOCK_SKEW = timedelta(minutes=5)  # the provider's clock against ours, when matching creation times
# Errors before any byte of the request left: the message cannot have been accepted.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def retry_after_s(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), None if absent or unreadable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _error_of(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and "code" in body:
        return f"HTTP {response.status_code} code {body.get('code')}: {body.get('message')}"[:500]
    return f"HTTP {response.status_code}"


class TwilioSmsSender:
    def __init__(self, account_sid: str, auth_token: str, sender: str, *, base_url: str = "https://api.twilio.com",
                 timeout_s: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._url = f"{base_url.rstrip('/')}/2010-04-01/Accounts/{account_sid}/Messages.json"
        self._sender = sender
        self._client = httpx.AsyncClient(auth=(account_sid, auth_token), timeout=timeout_s, transport=transport,
                                         headers={"Accept": "application/json"}, cookies=KeepNoCookies())

    async def send(self, recipient: str, message: RenderedMessage, message_key: str) -> SendResult:
        started = time.monotonic()
        try:
            response = await self._client.post(self._url, data={"To": recipient, "From": self._sender,
                                                                 "Body": message.text[:MAX_BODY]})
        except httpx.HTTPError as exc:  # timeouts, refused or dropped connections
            return SendResult(False, int((time.monotonic() - started) * 1000), error=f"{type(exc).__name__}: {exc}"[:500],
                              unknown=not isinstance(exc, NOT_SENT))
        took = int((time.monotonic() - started) * 1000)
        if response.is_success:
            body = response.json()
            return SendResult(True, took, provider_message_id=body.get("sid") if isinstance(body, dict) else None)
        status = response.status_code
        transient = status == 429 or status == 408 or status >= 500
        return SendResult(False, took, error=_error_of(response), permanent=not transient,
                          retry_after_s=retry_after_s(response.headers.get("retry-after")) if transient else None)

    def digest(self, recipient: str, message: RenderedMessage) -> str:
        return body_digest(recipient, message.text[:MAX_BODY])

    async def find(self, recipient: str, digest: str, since: datetime) -> SendResult | None:
        started = time.monotonic()
        try:
            response = await self._client.get(self._url, params={"To": recipient, "From": self._sender,
                                                                 "PageSize": 50})
            took = int((time.monotonic() - started) * 1000)
            if not response.is_success:
                return SendResult(False, took, error=f"look-up: {_error_of(response)}"[:500],
                                  retry_after_s=retry_after_s(response.headers.get("retry-after")))
            listed = response.json().get("messages") or []
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            return SendResult(False, int((time.monotonic() - started) * 1000),
                              error=f"look-up: {type(exc).__name__}: {exc}"[:500])
        for found in listed:
            if (isinstance(found, dict) and body_digest(str(found.get("to")), str(found.get("body"))) == digest
                    and _created(found) >= since - CLOCK_SKEW):
                return SendResult(True, took, provider_message_id=found.get("sid"))
        return None

    async def aclose(self) -> None:
        await self._client.aclose()


def body_digest(recipient: str, body: str) -> str:
    return hashlib.sha256(f"{recipient}\n{body}".encode()).hexdigest()


def _created(message: dict[str, Any]) -> datetime:
    try:
        created = parsedate_to_datetime(str(message.get("date_created")))
    except (TypeError, ValueError):  # unreadable: counted as recent (a match is worth more than a copy)
        return datetime.max.replace(tzinfo=UTC)
    return created if created.tzinfo else created.replace(tzinfo=UTC)

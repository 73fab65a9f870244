"""HTTP plumbing shared by the provider adapters.

One place turns httpx failures and HTTP statuses into the transport exceptions of
`errors.py` and reads JSON bodies, so the adapters only map provider verdicts.
Nothing here copies a request body, a header or an httpx exception text into an
exception we raise: bodies carry card numbers and headers carry API keys.
"""

from __future__ import annotations

import email.utils
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

import httpx
import msgspec
import structlog

from app.adapters.asyncio_network import AsyncioTransport
from app.adapters.no_cookies import KeepNoCookies
from app.adapters.providers.errors import (
    ProviderConnectError,
    ProviderRateLimited,
    ProviderServerError,
    ProviderTimeout,
)

JsonObject = dict[str, Any]
log = structlog.get_logger(__name__)


class ProviderCredentialsRejected(ProviderConnectError):
    """401/403: the provider refused our credentials, so it acted on nothing."""


def lowercase_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Callback headers arrive from several frameworks; compare names case-insensitively."""
    return {name.lower(): value for name, value in headers.items()}


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After in seconds, from either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def decode_object(content: bytes) -> JsonObject | None:
    """The body as a JSON object, or None when it is not one."""
    try:
        decoded = msgspec.json.decode(content)
    except msgspec.DecodeError:
        return None
    return decoded if isinstance(decoded, dict) else None


def own_search_results(provider: str, body: JsonObject, attempt_id: uuid.UUID,
                       is_ours: Callable[[JsonObject], bool]) -> tuple[list[JsonObject], int]:
    """The objects of a `{"data": [...]}` search answer that provably belong to the attempt,
    and how many others it held. A search is a query, not an identity: whatever does not
    carry our attempt id, amount and currency is logged and ignored, never applied."""
    found = [item for item in body.get("data") or [] if isinstance(item, dict)]
    ours = [item for item in found if is_ours(item)]
    for item in found:
        if not is_ours(item):
            log.warning("provider_search_result_ignored", provider=provider, attempt_id=str(attempt_id),
                        found_id=item.get("id"), found_amount=item.get("amount"),
                        found_currency=item.get("currency"), found_metadata=item.get("metadata"))
    return ours, len(found) - len(ours)


class ProviderHttp:
    """A provider's base URL, timeout and client; every adapter call goes through `request`."""

    def __init__(self, provider: str, api_base: str, timeout_s: float,
                 client: httpx.AsyncClient | None = None) -> None:
        self.provider = provider
        self._base = api_base.rstrip("/")
        self._timeout = timeout_s
        # asyncio's streams under httpx's pool: cheaper per call than anyio's (asyncio_network.py)
        self._client = client or httpx.AsyncClient(cookies=KeepNoCookies(), transport=AsyncioTransport())
        self._owns_client = client is None

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def request(self, method: str, path: str, *, reject_unauthorized: bool = True,
                      **kwargs: Any) -> httpx.Response:
        """Send; raise the transport exception for no answer, 429, 5xx (and 401/403 unless
        the caller wants to handle them, e.g. to refresh an OAuth token). Any other status
        is the provider's verdict and is returned for the adapter to map."""
        what = f"{method} {path.split('?')[0]}"
        try:
            response = await self._client.request(method, self._base + path, timeout=self._timeout, **kwargs)
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            raise ProviderConnectError(self.provider, f"{what}: no connection in time") from None
        except httpx.ConnectError:
            raise ProviderConnectError(self.provider, f"{what}: connection refused or unreachable") from None
        except httpx.TimeoutException:
            raise ProviderTimeout(self.provider, f"{what}: no answer within {self._timeout}s") from None
        except httpx.RequestError as exc:  # dropped mid-request, undecodable, redirect loop: may have acted
            raise ProviderServerError(self.provider, f"{what}: {type(exc).__name__}") from None
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise ProviderRateLimited(self.provider, f"{what}: rate limited (429)", retry_after)
        if status >= 500:
            raise ProviderServerError(self.provider, f"{what}: server error {status}", status)
        if reject_unauthorized and status in (401, 403):
            self.raise_credentials_rejected(response, what)
        return response

    def raise_credentials_rejected(self, response: httpx.Response, what: str = "") -> NoReturn:
        raise ProviderCredentialsRejected(self.provider, f"{what}: credentials rejected ({response.status_code})")

    def json(self, response: httpx.Response) -> JsonObject:
        """A success body; one we cannot read means the provider may have acted: no verdict."""
        body = decode_object(response.content)
        if body is None:
            raise ProviderServerError(self.provider, f"unreadable {response.status_code} body", response.status_code)
        return body

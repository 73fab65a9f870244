"""PayPal OAuth2 client-credentials tokens (developer.paypal.com/api/rest/authentication).

`POST /v1/oauth2/token` with HTTP Basic (client id, secret) and
`grant_type=client_credentials` answers `{"access_token", "token_type": "Bearer",
"expires_in": <seconds>, ...}`. The token is cached until shortly before it expires;
callers arriving together share one fetch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from app.adapters.providers.errors import ProviderServerError
from app.adapters.providers.http import ProviderHttp

# Refresh this long before PayPal's expiry (capped at a tenth of the lifetime), so a
# token never expires between being handed out and being used.
REFRESH_MARGIN_S = 60.0


class PayPalAccessTokens:
    def __init__(self, http: ProviderHttp, client_id: str, client_secret: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._http = http
        self._credentials = (client_id, client_secret)
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    async def get(self) -> str:
        if (token := self._fresh_token()) is not None:
            return token
        async with self._lock:
            # whoever held the lock before us may have fetched one already
            if (token := self._fresh_token()) is None:
                token = await self._fetch()
            return token

    def invalidate(self, token: str) -> None:
        """Forget `token` after PayPal answered 401 to it; a newer one is left alone."""
        if self._token == token:
            self._token = None

    def _fresh_token(self) -> str | None:
        return self._token if self._token is not None and self._clock() < self._expires_at else None

    async def _fetch(self) -> str:
        # 401 here means wrong client credentials: ProviderHttp raises ProviderCredentialsRejected.
        response = await self._http.request(
            "POST", "/v1/oauth2/token", data={"grant_type": "client_credentials"},
            auth=self._credentials, headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            self._http.raise_credentials_rejected(response, "POST /v1/oauth2/token")
        body = self._http.json(response)
        token, lifetime = body.get("access_token"), body.get("expires_in")
        if not isinstance(token, str) or not isinstance(lifetime, int | float) or lifetime <= 0:
            raise ProviderServerError(self._http.provider, "token response lacks access_token/expires_in", 200)
        self._token = token
        self._expires_at = self._clock() + lifetime - min(REFRESH_MARGIN_S, lifetime / 10)
        return token

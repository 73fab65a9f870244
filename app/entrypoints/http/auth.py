"""Merchant authentication: `Authorization: Bearer <secret key>`.

Resolved merchants are cached in-process for a short time so the hot path does not
pay a database round trip per request; a revoked key stops working within the TTL."""

from __future__ import annotations

import time

import structlog
from litestar import Request
from litestar.openapi.spec import Components, SecurityScheme

from app.domain.errors import Unauthenticated
from app.domain.model.merchant import Merchant
from app.domain.services.merchants import MerchantService

CACHE_TTL_S = 60.0
CACHE_MAX_ENTRIES = 10_000

SECURITY_COMPONENTS = Components(
    security_schemes={"MerchantKey": SecurityScheme(type="http", scheme="bearer", description="Merchant secret key")}
)
MERCHANT_SECURITY: list[dict[str, list[str]]] = [{"MerchantKey": []}]


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("missing Authorization header (expected 'Bearer <secret key>')")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization header must be 'Bearer <secret key>'")
    return token.strip()


class MerchantAuthenticator:
    def __init__(self, merchants: MerchantService) -> None:
        self._merchants = merchants
        self._cache: dict[str, tuple[float, Merchant]] = {}

    async def authenticate(self, authorization: str | None) -> Merchant:
        token = bearer_token(authorization)
        cached = self._cache.get(token)
        now = time.monotonic()
        if cached and cached[0] > now:
            merchant = cached[1]
        else:
            merchant = await self._merchants.authenticate(token)
            if len(self._cache) >= CACHE_MAX_ENTRIES:
                self._cache.clear()
            self._cache[token] = (now + CACHE_TTL_S, merchant)
        structlog.contextvars.bind_contextvars(merchant_id=str(merchant.id))
        return merchant


async def provide_merchant(request: Request) -> Merchant:
    """Litestar dependency: the authenticated merchant of this request."""
    authenticator: MerchantAuthenticator = request.app.state.authenticator
    merchant = await authenticator.authenticate(request.headers.get("authorization"))
    # Dependencies may resolve in child tasks, whose contextvars the request log never
    # sees; the ASGI scope is shared, so the merchant id goes there too.
    request.scope.setdefault("state", {})["merchant_id"] = str(merchant.id)
    return merchant

"""Rate limits per route group, counted per credential (the bearer token: an API key or a
user's token, hashed) and per client IP (X-Forwarded-For only from trusted proxies).
Runs before the request guard, idempotency and the handler: a refused request has done
nothing. 429 problems carry Retry-After and the RateLimit-* headers (IETF draft)."""

from __future__ import annotations

import hashlib

from litestar.exceptions import HTTPException
from litestar.types import Scope
from prometheus_client import Counter

from app.adapters.redis.rate_limits import RateLimitItem, RedisRateLimiter, Refusal, parse_limits
from config.settings import RateLimitSettings

RATE_LIMITED = Counter("fxp_rate_limited_requests", "Requests refused by a rate limit", ["group"])

# First matching prefix names the group; anything else is "api".
ROUTE_GROUPS = (
    ("/health", "health"), ("/ready", "health"), ("/metrics", "health"),
    ("/callbacks/", "callbacks"), ("/payment/callback", "callbacks"),
    ("/payments", "payments"), ("/payment/", "payments"), ("/orders", "orders"), ("/order/", "orders"),
    ("/products", "catalog"), ("/admin", "admin"), ("/schema", "docs"), ("/swagger", "docs"),
    ("/static/docs", "docs"), ("/problems", "docs"),
)


def route_group(path: str) -> str:
    return next((group for prefix, group in ROUTE_GROUPS if path.startswith(prefix)), "api")


class RateLimitPolicy:
    """Which limits apply to a group (None: not limited), read once from settings."""

    def __init__(self, settings: RateLimitSettings) -> None:
        self.enabled = settings.enabled
        self._exempt = frozenset(settings.exempt.split())
        self._default = parse_limits(settings.default, "FXP_RATE_LIMIT__DEFAULT")
        self._groups = {group: parse_limits(text, f"FXP_RATE_LIMIT__GROUPS ({group})")
                        for group, text in settings.group_limits().items()}

    def limits_for(self, group: str) -> tuple[RateLimitItem, ...] | None:
        if not self.enabled or group in self._exempt:
            return None
        return self._groups.get(group, self._default) or None


def identities(scope: Scope, client_ip: str | None) -> list[str]:
    found = [f"ip:{client_ip}"] if client_ip else []
    authorization = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
    scheme, _, token = authorization.partition(b" ")
    if scheme.lower() == b"bearer" and token.strip():
        found.append("cred:" + hashlib.sha256(token.strip()).hexdigest()[:32])
    return found


def too_many_requests(refusal: Refusal) -> HTTPException:
    headers = {"Retry-After": str(refusal.retry_after_s), "RateLimit-Limit": str(refusal.limit),
               "RateLimit-Remaining": "0", "RateLimit-Reset": str(refusal.retry_after_s),
               "RateLimit-Policy": f"{refusal.limit};w={refusal.window_s}"}
    return HTTPException(status_code=429, headers=headers,
                         detail=f"rate limit of {refusal.limit} per {refusal.window_s}s reached; "
                                f"retry in {refusal.retry_after_s}s")


async def enforce_rate_limits(scope: Scope) -> None:
    """Count the request against its group's limits; 429 when one is reached. Run by
    route_entry_middleware, first thing for every routed request."""
    state = scope["app"].state
    policy: RateLimitPolicy = state.rate_limit_policy
    if not policy.enabled:
        return
    items = policy.limits_for(group := route_group(scope["path"]))
    if items:
        limiter: RedisRateLimiter = state.container.rate_limiter
        refusal = await limiter.admit(group, identities(scope, state.client_address.of(scope)), items)
        if refusal is not None:
            RATE_LIMITED.labels(group).inc()
            raise too_many_requests(refusal)

"""The part every provider decorator shares (call logging, saved-card opening): it stands
in for the provider it wraps, so closing and adapter-specific extras reach the inner one."""

from __future__ import annotations

from typing import Any

from app.domain.ports import PaymentProvider


class ProviderWrapper:
    def __init__(self, inner: PaymentProvider) -> None:
        self._inner = inner
        self.name = inner.name

    async def aclose(self) -> None:
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()

    def __getattr__(self, name: str) -> Any:  # adapter-specific extras (e.g. the breaker state)
        return getattr(self._inner, name)

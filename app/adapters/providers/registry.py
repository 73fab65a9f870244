"""The configured payment providers, by name."""

from __future__ import annotations

from app.domain.errors import UnknownProvider
from app.domain.ports import PaymentProvider


class ProviderRegistry:
    def __init__(self, providers: list[PaymentProvider]) -> None:
        self._providers = {provider.name: provider for provider in providers}

    def get(self, name: str) -> PaymentProvider:
        try:
            return self._providers[name]
        except KeyError:
            raise UnknownProvider(name) from None

    def names(self) -> list[str]:
        return sorted(self._providers)

    async def aclose(self) -> None:
        for provider in self._providers.values():
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()

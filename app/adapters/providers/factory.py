"""Build the configured provider adapters, each behind the resilience wrapper."""

from __future__ import annotations

from typing import Any

import msgspec

from app.adapters.providers.call_log import CallLog, RecordingProvider
from app.adapters.providers.card_processor import CardProcessorProvider, CardProcessorSettings
from app.adapters.providers.paypal import PayPalProvider, PayPalSettings
from app.adapters.providers.registry import ProviderRegistry
from app.adapters.providers.resilience import ResilientProvider
from app.adapters.providers.sandbox import SandboxProvider, SandboxSettings
from app.adapters.providers.stripe import StripeProvider, StripeSettings
from app.adapters.vault.detokenizing import DetokenizingProvider, Reveal
from config.settings import Settings

LIST_FIELDS = ("webhook_secrets",)


def _settings(raw: dict[str, Any], cls: type) -> Any:
    values = dict(raw)
    for name in LIST_FIELDS:  # from the environment these arrive comma-separated
        if isinstance(values.get(name), str):
            values[name] = [item for item in values[name].split(",") if item]
    return msgspec.convert(values, cls, strict=False)


def build_providers(settings: Settings, reveal: Reveal | None = None, calls: CallLog | None = None) -> ProviderRegistry:
    """`reveal`: the card vault's opener; with it, purchases may name saved cards.
    `calls`: where each call and verified callback is logged with its latency."""
    configured = settings.providers
    sandbox = {"base_url": "http://127.0.0.1:8100", "callback_secret": "sandbox_dev_secret",
               "callback_url": f"{settings.public_url}/callbacks/sandbox", **configured.sandbox}
    adapters: list[Any] = [SandboxProvider(_settings(sandbox, SandboxSettings))]
    if configured.stripe:
        adapters.append(StripeProvider(_settings(configured.stripe, StripeSettings)))
    if configured.paypal:
        adapters.append(PayPalProvider(_settings(configured.paypal, PayPalSettings)))
    if configured.card:
        adapters.append(CardProcessorProvider(_settings(configured.card, CardProcessorSettings)))
    resilient: list[Any] = [ResilientProvider(adapter) for adapter in adapters]
    if reveal is not None:  # outside the retries: the card is opened (and its CVC taken) once
        resilient = [DetokenizingProvider(adapter, reveal) for adapter in resilient]
    if calls is not None:
        resilient = [RecordingProvider(adapter, calls) for adapter in resilient]
    return ProviderRegistry(resilient)

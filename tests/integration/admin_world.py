"""A small world for the admin API and the dashboard, on real PostgreSQL and Redis: the
use cases from build_container with the in-process bus; only the payment provider (a
scripted fake, behind the real call log) and the merchant's webhook receiver are fakes.

Merchant-provided strings carry payloads: a script tag in the merchant name (XSS) and a
formula as a merchant_reference (CSV injection)."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import msgspec

from app.adapters.providers.call_log import PiccoloProviderCallLog, RecordingProvider
from app.bootstrap import Container, build_container
from app.domain.model.card import CardDetails
from app.domain.model.fraud import AmountLimit, FraudAction, FraudRule
from app.domain.model.order import Customer, LineItem
from app.domain.model.principal import Credential, Principal
from app.domain.model.provider import Outcome, ProviderResult
from app.domain.model.user import Role
from app.domain.services.notifications import WebhookResponse
from app.domain.services.orders import NewOrder
from tests.unit.fake_providers import FakeProvider, FakeProviderRegistry, InMemoryCardDataCache
from tests.unit.fakes import InMemoryLockManager

ADMIN_KEY = "admin-world-key"
CARD = CardDetails.parse("4242424242424242", 12, 2035, "123", date(2026, 1, 1))
XSS = "<script>document.title='pwned'</script><img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.example","click")'
PASSWORD = "correct horse battery staple"


class OkReceiver:
    """The merchant's webhook endpoint: answers 200 to everything."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, url: str, secret: str, webhook_id: str, message: dict[str, Any],
                   correlation_id: str | None, also_sign_with: tuple[str, ...] = ()) -> WebhookResponse:
        self.sent.append(webhook_id)
        return WebhookResponse(200, 3)


@dataclass
class World:
    container: Container
    provider: FakeProvider
    merchant_id: uuid.UUID
    tag: str  # unique per world: references and emails carry it
    orders: dict[str, uuid.UUID] = field(default_factory=dict)
    payments: dict[str, uuid.UUID] = field(default_factory=dict)
    admin_email: str = ""


def world_container(container: Container, provider: FakeProvider) -> Container:
    settings = msgspec.structs.replace(container.settings, api=msgspec.structs.replace(
        container.settings.api, admin_api_key=ADMIN_KEY))
    providers = FakeProviderRegistry(RecordingProvider(provider, PiccoloProviderCallLog(container.engine)))
    built = build_container(settings, engine=container.engine, redis=container.redis, providers=providers,
                            locks=InMemoryLockManager(), card_cache=InMemoryCardDataCache(),
                            webhook_sender=OkReceiver())
    return dataclasses.replace(built, dead_letters=container.dead_letters)


async def build_world(container: Container) -> World:
    provider = FakeProvider()
    c = world_container(container, provider)
    tag = uuid.uuid4().hex[:8]
    merchant = await c.merchants.create(f"Shop {tag} {XSS}", "https://merchant.example/hooks")
    world = World(c, provider, merchant.merchant.id, tag)
    # Orders above 100.00 EUR wait for a reviewer.
    await c.fraud_rules.replace(world.merchant_id, [FraudRule("big-eur", 1, FraudAction.REVIEW,
                                                              AmountLimit("EUR", 10_000))])

    async def order(name: str, amount: int = 2500, currency: str = "USD", reference: str | None = None) -> uuid.UUID:
        created = await c.orders.create(world.merchant_id, NewOrder(
            amount, currency, [LineItem("Thing", 1, amount)], Customer(email=f"{name}-{tag}@example.com", name=XSS),
            reference or f"{name}-{tag}"))
        world.orders[name] = created.id
        return created.id

    async def pay(name: str) -> None:
        attempt = await c.payments.request(world.merchant_id, world.orders[name], "sandbox", CARD)
        world.payments[name] = attempt.id
        await c.bus.drain()  # the provider is called after commit, in the background

    await order("paid", reference=f"{FORMULA}-{tag}")
    await pay("paid")
    await order("declined", amount=1999)
    provider.answers.append(ProviderResult(Outcome.FAILED, failure_code="card_declined",
                                           failure_message="Your card was declined"))
    await pay("declined")
    await order("refunded", amount=4200)
    await pay("refunded")
    await c.orders.cancel(world.merchant_id, world.orders["refunded"], "customer asked")
    await order("held", amount=50_000, currency="EUR")
    await pay("held")
    await c.bus.drain()
    world.admin_email = f"admin-{tag}@example.com"
    await c.accounts.create_user(Principal(Role.ADMIN, Credential.ADMIN_KEY), world.admin_email, PASSWORD,
                                 Role.ADMIN, None)
    return world

"""Card vault use cases over in-memory fakes, and paying with a saved card."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.adapters.vault.detokenizing import DetokenizingProvider
from app.domain.errors import NotFound, ValidationFailed
from app.domain.model.card import CardDetails, CardToken
from app.domain.model.order import OrderStatus
from app.domain.model.payment import AttemptStatus
from app.domain.services.vault import NewCard
from tests.unit.builders import new_order
from tests.unit.fake_accounts import FakeCardSealer, InMemoryCvcCache
from tests.unit.fake_providers import FakeProvider, FakeProviderRegistry, InMemoryCardDataCache
from tests.unit.fakes import FakeClock
from tests.unit.fake_container import fake_container

VISA = NewCard("4242 4242 4242 4242", 12, 2030, "737", "Ada Lovelace")


class World:
    """The vault and payments as the composition root wires them, over fakes; the provider
    sits behind the vault's detokenizer, as build_providers puts it."""

    def __init__(self) -> None:
        self.sealer, self.cvcs, self.provider = FakeCardSealer(), InMemoryCvcCache(), FakeProvider()
        self.attempt_cards = InMemoryCardDataCache()
        # the vault is built by the container: the detokenizer looks it up when it is called
        detokenizing = DetokenizingProvider(self.provider, lambda merchant, token: self.vault.reveal(merchant, token))
        self.clock = FakeClock()
        container = fake_container(clock=self.clock, card_sealer=self.sealer, cvc_cache=self.cvcs, card_cache=self.attempt_cards,
                                   providers=FakeProviderRegistry(detokenizing))  # type: ignore[arg-type]
        self.uow = container.uow
        self.vault, self.payments = container.vault, container.payments
        self.merchant_id = uuid.uuid4()
        self.customer_id = uuid.uuid4()

    def order(self, user_id: uuid.UUID | None = None):
        order = new_order(self.merchant_id)
        order.user_id = user_id
        self.uow.seed(order)
        return order


async def test_save_keeps_only_the_sealed_number_and_caches_the_cvc():
    world = World()
    card = await world.vault.save(world.merchant_id, world.customer_id, VISA)
    assert card.token.startswith("card_") and (card.brand, card.last4) == ("visa", "4242")
    stored = world.uow.db.cards[card.token]
    assert stored.sealed is not None and b"4242424242424242" not in stored.sealed.ciphertext
    assert stored.sealed.key_id == "v1" and not hasattr(stored, "cvc")  # the record has no place for it
    assert world.cvcs.values == {card.token: "737"}


async def test_fingerprint_is_stable_within_a_merchant_only():
    world = World()
    one = await world.vault.save(world.merchant_id, None, VISA)
    two = await world.vault.save(world.merchant_id, world.customer_id, VISA)
    elsewhere = await world.vault.save(uuid.uuid4(), None, VISA)
    assert one.fingerprint == two.fingerprint != elsewhere.fingerprint
    assert "4242424242424242" not in one.fingerprint


@pytest.mark.parametrize(("card", "code"), [
    (NewCard("4242424242424241", 12, 2030, "737", "Ada"), "incorrect_number"),
    (NewCard("4242424242424242", 12, 2025, "737", "Ada"), "expired_card"),
    (NewCard("4242424242424242", 12, 2030, "73", "Ada"), "invalid_cvc"),
    (NewCard("4242424242424242", 12, 2030, "73737", "Ada"), "invalid_cvc"),
    (NewCard("4242424242424242", 12, 2030, "737", "   "), "invalid_holder_name"),
])
async def test_bad_cards_are_refused_and_nothing_is_written(card, code):
    world = World()
    with pytest.raises(ValidationFailed) as refused:
        await world.vault.save(world.merchant_id, None, card)
    assert refused.value.code == code and not world.uow.db.cards and not world.cvcs.values


async def test_a_customer_sees_only_its_own_cards_and_the_merchant_sees_all():
    world = World()
    mine = await world.vault.save(world.merchant_id, world.customer_id, VISA)
    theirs = await world.vault.save(world.merchant_id, uuid.uuid4(), VISA)
    assert [c.token for c in await world.vault.list(world.merchant_id, world.customer_id)] == [mine.token]
    assert {c.token for c in await world.vault.list(world.merchant_id, None)} == {mine.token, theirs.token}
    with pytest.raises(NotFound):
        await world.vault.get(world.merchant_id, world.customer_id, theirs.token)
    with pytest.raises(NotFound):
        await world.vault.get(uuid.uuid4(), None, mine.token)


async def test_delete_is_soft_and_erases_the_sealed_number():
    world = World()
    card = await world.vault.save(world.merchant_id, world.customer_id, VISA)
    await world.vault.delete(world.merchant_id, world.customer_id, card.token)
    stored = world.uow.db.cards[card.token]
    assert stored.deleted_at is not None and stored.sealed is None and stored.last4 == "4242"
    assert not world.cvcs.values
    with pytest.raises(NotFound):
        await world.vault.get(world.merchant_id, world.customer_id, card.token)


async def test_rekey_reseals_every_live_card_under_the_newest_key():
    world = World()
    cards = [await world.vault.save(world.merchant_id, None, VISA) for _ in range(5)]
    world.sealer.current_key_id = "v2"
    assert await world.vault.rekey(batch=2) == 5
    assert {c.sealed.key_id for c in world.uow.db.cards.values()} == {"v2"}
    opened = await world.vault.reveal(world.merchant_id, cards[0].token)
    assert opened is not None and opened.number == "4242424242424242"
    assert await world.vault.rekey() == 0


async def test_paying_with_a_token_opens_the_card_only_inside_the_provider_call():
    world = World()
    card = await world.vault.save(world.merchant_id, world.customer_id, VISA)
    order = world.order(world.customer_id)
    attempt = await world.payments.request(world.merchant_id, order.id, "sandbox", CardToken(card.token),
                                           customer_id=world.customer_id)
    assert (attempt.card_brand, attempt.card_last4) == ("visa", "4242")
    # no number cached: the token, with what the vault shows of the card
    assert await world.attempt_cards.get(attempt.id) == CardToken(card.token, "visa", "4242", card.fingerprint)
    assert attempt.card_fingerprint == card.fingerprint  # fraud rules see the vault's fingerprint
    await world.payments.dispatch(attempt.id)
    [sent] = world.provider.purchases
    assert isinstance(sent.payment_method, CardDetails) and sent.payment_method.number == "4242424242424242"
    assert sent.payment_method.cvc == "737" and sent.payment_method.from_vault
    assert not world.cvcs.values  # the CVC went with this payment and is gone


@pytest.mark.parametrize("case", ["unknown", "deleted", "other_customer", "other_merchant", "expired",
                                  "merchant_card_for_customer"])
async def test_unusable_tokens_are_refused_and_no_attempt_is_created(case):
    world = World()
    owner = uuid.uuid4() if case == "other_customer" else None if case == "merchant_card_for_customer" \
        else world.customer_id
    merchant = uuid.uuid4() if case == "other_merchant" else world.merchant_id
    card = await world.vault.save(merchant, owner, VISA)
    token = "card_doesnotexist123" if case == "unknown" else card.token
    if case == "deleted":
        await world.vault.delete(merchant, owner, token)
    if case == "expired":
        world.clock.at = world.clock.at.replace(year=2031)
    order = world.order(world.customer_id)
    with pytest.raises(ValidationFailed) as refused:
        await world.payments.request(world.merchant_id, order.id, "sandbox", CardToken(token),
                                     customer_id=world.customer_id)
    assert refused.value.code == ("expired_card" if case == "expired" else "invalid_card_token")
    assert not world.uow.db.payments and world.uow.db.orders[order.id].status is OrderStatus.CREATED


async def test_another_customers_order_is_not_found():
    world = World()
    order = world.order(uuid.uuid4())
    card = await world.vault.save(world.merchant_id, world.customer_id, VISA)
    with pytest.raises(NotFound):
        await world.payments.request(world.merchant_id, order.id, "sandbox", CardToken(card.token),
                                     customer_id=world.customer_id)


async def test_two_orders_paid_at_once_with_one_saved_card_both_proceed():
    world = World()
    card = await world.vault.save(world.merchant_id, world.customer_id, VISA)
    orders = [world.order(world.customer_id) for _ in range(2)]
    attempts = await asyncio.gather(*[world.payments.request(world.merchant_id, o.id, "sandbox",
                                                             CardToken(card.token), customer_id=world.customer_id)
                                      for o in orders])
    await asyncio.gather(*[world.payments.dispatch(a.id) for a in attempts])
    assert len(world.provider.purchases) == 2
    assert {world.uow.db.payments[a.id].status for a in attempts} == {AttemptStatus.SUCCESS}
    assert sorted(p.payment_method.cvc for p in world.provider.purchases) == ["", "737"]  # the CVC went once


async def test_a_card_deleted_before_dispatch_fails_the_attempt_without_a_charge():
    world = World()
    card = await world.vault.save(world.merchant_id, None, VISA)
    order = world.order()
    attempt = await world.payments.request(world.merchant_id, order.id, "sandbox", CardToken(card.token))
    await world.vault.delete(world.merchant_id, None, card.token)
    await world.payments.dispatch(attempt.id)
    assert not world.provider.purchases
    assert world.uow.db.payments[attempt.id].status is AttemptStatus.FAILED

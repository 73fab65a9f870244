"""Card vault use cases (seed 004): save, list, read, delete, open for a provider call,
re-seal under the newest key. The number leaves the vault only through `reveal`, which
only the provider call uses; the CVC only through the CVC cache, once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from app.domain.errors import NotFound, ValidationFailed
from app.domain.model.card import CardDetails, CardToken
from app.domain.model.order import Order
from app.domain.model.saved_card import SavedCard, check_holder_name, new_card_token
from app.domain.ports import Clock, UnitOfWork, UnitOfWorkFactory
from app.domain.ports_vault import CardSealer, CvcCache


@dataclass(frozen=True, slots=True, repr=False)
class NewCard:
    number: str
    exp_month: int
    exp_year: int
    cvc: str
    holder_name: str


def sealing_context(merchant_id: uuid.UUID, token: str) -> bytes:
    """AES-GCM associated data: a sealed number opens only on its own record."""
    return f"{merchant_id}:{token}".encode()


async def usable_card(uow: UnitOfWork, order: Order, customer_id: uuid.UUID | None, token: str,
                      clock: Clock) -> CardToken:
    """The saved card `token` as the payment method of `order`: a customer's card pays only
    that customer's orders, and a customer pays only with its own cards. Unknown, deleted
    and foreign tokens all look the same."""
    card = await uow.cards.get(token)
    if (card is None or card.deleted_at is not None or card.merchant_id != order.merchant_id
            or (card.user_id is not None and card.user_id != order.user_id)
            or (customer_id is not None and card.user_id != customer_id)):
        raise ValidationFailed("unknown card token", field="payment_method.token", code="invalid_card_token")
    if card.expired(clock.now().date()):
        raise ValidationFailed("the saved card has expired", field="payment_method.token", code="expired_card")
    return CardToken(card.token, card.brand, card.last4, card.fingerprint)


class CardVaultService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, sealer: CardSealer, cvcs: CvcCache) -> None:
        self._uow, self._clock, self._sealer, self._cvcs = uow, clock, sealer, cvcs

    @property
    def current_key_id(self) -> str:
        return self._sealer.current_key_id

    async def save(self, merchant_id: uuid.UUID, user_id: uuid.UUID | None, new: NewCard) -> SavedCard:
        details = CardDetails.parse(new.number, new.exp_month, new.exp_year, new.cvc, self._clock.now().date(), "")
        token = new_card_token()
        card = SavedCard(token, merchant_id, details.brand, details.last4, details.exp_month, details.exp_year,
                         check_holder_name(new.holder_name), self._sealer.fingerprint(merchant_id, details.number),
                         self._clock.now(), self._sealer.seal(details.number.encode(),
                                                              sealing_context(merchant_id, token)), user_id)
        async with self._uow() as uow:
            await uow.cards.add(card)
            await uow.commit()
        await self._cvcs.put(token, details.cvc)
        return card

    async def list(self, merchant_id: uuid.UUID, customer_id: uuid.UUID | None, limit: int = 100) -> list[SavedCard]:
        async with self._uow() as uow:
            return await uow.cards.list(merchant_id, customer_id, limit)

    async def get(self, merchant_id: uuid.UUID, customer_id: uuid.UUID | None, token: str) -> SavedCard:
        async with self._uow() as uow:
            return await self._visible(uow, merchant_id, customer_id, token)

    async def delete(self, merchant_id: uuid.UUID, customer_id: uuid.UUID | None, token: str) -> SavedCard:
        async with self._uow() as uow:
            card = await self._visible(uow, merchant_id, customer_id, token, lock=True)
            card.delete(self._clock.now())
            await uow.cards.save(card)
            await uow.commit()
        await self._cvcs.take(token)
        return card

    async def reveal(self, merchant_id: uuid.UUID, token: str) -> CardDetails | None:
        """The card's number (and its CVC while cached, then never again) for the provider
        call that is being made; None when the card is unknown, foreign or deleted."""
        async with self._uow() as uow:
            card = await uow.cards.get(token)
        if card is None or card.merchant_id != merchant_id or card.sealed is None:
            return None
        number = self._sealer.open(card.sealed, sealing_context(merchant_id, token)).decode()
        return CardDetails(number, card.exp_month, card.exp_year, await self._cvcs.take(token) or "", from_vault=True)

    async def rekey(self, batch: int = 200) -> int:
        """Re-seal every number sealed under an older configured key with the newest one;
        how many were re-sealed. (A key that is no longer configured cannot be opened.)"""
        older = [key_id for key_id in self._sealer.key_ids if key_id != self._sealer.current_key_id]
        total = 0
        while older:
            async with self._uow() as uow:
                cards = await uow.cards.sealed_under(older, batch)
                for card in cards:
                    assert card.sealed is not None  # the query returns live cards only
                    context = sealing_context(card.merchant_id, card.token)
                    card.sealed = self._sealer.seal(self._sealer.open(card.sealed, context), context)
                    await uow.cards.save(card)
                await uow.commit()
            total += len(cards)
            if len(cards) < batch:
                break
        return total

    async def _visible(self, uow: UnitOfWork, merchant_id: uuid.UUID, customer_id: uuid.UUID | None, token: str,
                       lock: bool = False) -> SavedCard:
        card = await uow.cards.get(token, lock=lock)
        if card is None or card.deleted_at is not None or not card.visible_to(merchant_id, customer_id):
            raise NotFound("card not found", resource="card", id=token)
        return card

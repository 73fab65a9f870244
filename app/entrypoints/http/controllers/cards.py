"""The card vault: tokenize, list, read, delete saved cards. A customer's cards are its
own; cards saved with a merchant key or by staff are the merchant's."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.di import Provide
from litestar.params import Parameter

from app.domain.model.principal import Principal
from app.domain.services.vault import CardVaultService
from app.entrypoints.http.access import MERCHANT_OR_CUSTOMER
from app.entrypoints.http.auth import merchant_of, provide_principal
from app.entrypoints.http.problems import MERCHANT_ERRORS
from app.entrypoints.http.schemas.cards import Card, CardCreate, CardList
from app.entrypoints.http.schemas import patterns

CardToken = Annotated[str, Parameter(pattern=patterns.whole(r"card_[A-Za-z0-9_\-]{8,64}"), description="card_…")]


class CardController(Controller):
    path = "/cards"
    tags = ["cards"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False)}

    @post("/", responses=MERCHANT_ERRORS, status_code=201, summary="Tokenize a card",
          **MERCHANT_OR_CUSTOMER.route())
    async def create(self, data: CardCreate, principal: Principal, vault: CardVaultService) -> Card:
        return Card.from_domain(await vault.save(merchant_of(principal), principal.customer_id, data.to_domain()))

    @get("/", responses=MERCHANT_ERRORS, summary="Saved cards, newest first", **MERCHANT_OR_CUSTOMER.route())
    async def list_cards(self, principal: Principal, vault: CardVaultService) -> CardList:
        cards = await vault.list(merchant_of(principal), principal.customer_id)
        return CardList([Card.from_domain(card) for card in cards])

    @get("/{token:str}", responses=MERCHANT_ERRORS, summary="A saved card", **MERCHANT_OR_CUSTOMER.route())
    async def get_card(self, token: CardToken, principal: Principal, vault: CardVaultService) -> Card:
        return Card.from_domain(await vault.get(merchant_of(principal), principal.customer_id, token))

    @delete("/{token:str}", responses=MERCHANT_ERRORS, status_code=204,
            summary="Delete a saved card (past payments stay readable)", **MERCHANT_OR_CUSTOMER.route())
    async def delete_card(self, token: CardToken, principal: Principal, vault: CardVaultService) -> None:
        await vault.delete(merchant_of(principal), principal.customer_id, token)

"""Reads the card or token of a payment request into what the gateway keeps
(type, brand, last4) and the scripted behaviour. The full number and CVC go no further."""

from __future__ import annotations

from datetime import date

from sandbox_gateway.errors import GatewayError
from sandbox_gateway.schemas import PaymentCreate, PaymentMethodOut
from sandbox_gateway.test_cards import Behaviour, behaviour_for_card, behaviour_for_token, card_brand, luhn_valid


def read_payment_method(request: PaymentCreate, today: date) -> tuple[PaymentMethodOut, Behaviour, str | None]:
    """(stored method, behaviour, token or None). Raises GatewayError on a bad card or token."""
    if (request.card is None) == (request.token is None):
        raise GatewayError(400, "invalid_request", "send exactly one of card or token")
    if request.token is not None:
        if not request.token.startswith("tok_"):
            raise GatewayError(422, "invalid_token", "tokens start with tok_")
        return PaymentMethodOut("token"), behaviour_for_token(request.token), request.token
    card = request.card
    assert card is not None
    number = card.number.replace(" ", "").replace("-", "")
    if not (number.isdigit() and 12 <= len(number) <= 19 and luhn_valid(number)):
        raise GatewayError(422, "incorrect_number", "the card number is not valid")
    behaviour = behaviour_for_card(number)
    exp_year = card.exp_year + 2000 if card.exp_year < 100 else card.exp_year
    if (exp_year, card.exp_month) < (today.year, today.month):
        behaviour = Behaviour.EXPIRED_CARD  # a real issuer declines an expired card whatever its number
    return PaymentMethodOut("card", card_brand(number), number[-4:]), behaviour, None

"""Which scripted behaviour a payment gets, chosen by its test card number or token.

Only the behaviour is kept after this lookup: the full number never leaves the request
handler, so it cannot end up in the ledger, a response or a log line."""

from __future__ import annotations

from enum import StrEnum


class Behaviour(StrEnum):
    SUCCESS = "success"
    CARD_DECLINED = "card_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    EXPIRED_CARD = "expired_card"
    PROCESSING_ERROR = "processing_error"
    TIMEOUT = "timeout"  # holds the HTTP answer, still charges and calls back
    NO_CALLBACK = "no_callback"  # charges, never calls back: only a status poll tells
    DUPLICATE_CALLBACK = "duplicate_callback"  # the same event (same id) delivered twice
    OUT_OF_ORDER = "out_of_order"  # final event, then a stale older "processing" event
    THREE_D_SECURE = "three_d_secure"  # waits for the shopper to approve or refuse on the 3-D Secure page


# Failure code and message a declining behaviour settles with (the gateway's own words).
DECLINES: dict[Behaviour, tuple[str, str]] = {
    Behaviour.CARD_DECLINED: ("card_declined", "The card was declined."),
    Behaviour.INSUFFICIENT_FUNDS: ("insufficient_funds", "The card has insufficient funds."),
    Behaviour.EXPIRED_CARD: ("expired_card", "The card has expired."),
    Behaviour.PROCESSING_ERROR: ("processing_error", "An error occurred while processing the card."),
}
# What a payment settles with when the shopper refuses 3-D Secure.
AUTHENTICATION_FAILED = ("authentication_failed", "The cardholder did not complete 3-D Secure authentication.")

TEST_CARDS: dict[str, Behaviour] = {
    "4242424242424242": Behaviour.SUCCESS,
    "4000000000000002": Behaviour.CARD_DECLINED,
    "4000000000009995": Behaviour.INSUFFICIENT_FUNDS,
    "4000000000000069": Behaviour.EXPIRED_CARD,
    "4000000000000119": Behaviour.PROCESSING_ERROR,
    "4000000000000101": Behaviour.TIMEOUT,
    "4000000000000200": Behaviour.NO_CALLBACK,
    "4000000000000309": Behaviour.DUPLICATE_CALLBACK,
    "4000000000000408": Behaviour.OUT_OF_ORDER,
    "4000000000003220": Behaviour.THREE_D_SECURE,  # Stripe's "3DS2 required" test number
}

# Scenario tokens, so flows that pay by token can exercise the same behaviours.
TEST_TOKENS: dict[str, Behaviour] = {f"tok_{behaviour.value}": behaviour for behaviour in Behaviour}


def behaviour_for_card(number: str) -> Behaviour:
    return TEST_CARDS.get(number, Behaviour.SUCCESS)


def behaviour_for_token(token: str) -> Behaviour:
    return TEST_TOKENS.get(token, Behaviour.SUCCESS)


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith(("6011", "65")):
        return "discover"
    return "unknown"

"""Raw test card numbers -> Stripe's test PaymentMethods (test mode only).

Stripe refuses raw card numbers on the server unless the account has "raw card data
APIs" enabled (PCI SAQ D), and its testing guide (docs.stripe.com/testing) tells
server-side integrations to use the test PaymentMethods `pm_card_*` instead. So, until
the vault hands us Stripe tokens, a raw CardDetails in test mode is translated to the
PaymentMethod that simulates the same scenario; other numbers go by brand. Live mode
never sends raw numbers (the adapter refuses them).
"""

from __future__ import annotations

from app.domain.model.card import CardDetails

SCENARIO_PAYMENT_METHODS: dict[str, str] = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "4000000000000002": "pm_card_visa_chargeDeclined",
    "4000000000009995": "pm_card_visa_chargeDeclinedInsufficientFunds",
    "4000000000009987": "pm_card_visa_chargeDeclinedLostCard",
    "4000000000009979": "pm_card_visa_chargeDeclinedStolenCard",
    "4000000000000069": "pm_card_chargeDeclinedExpiredCard",
    "4000000000000127": "pm_card_chargeDeclinedIncorrectCvc",
    "4000000000000119": "pm_card_chargeDeclinedProcessingError",
    "4100000000000019": "pm_card_radarBlock",
    "4000002760003184": "pm_card_authenticationRequired",
    "4000000000003220": "pm_card_threeDSecure2Required",  # 3-D Secure on every payment
}

BRAND_PAYMENT_METHODS: dict[str, str] = {
    "visa": "pm_card_visa",
    "mastercard": "pm_card_mastercard",
    "amex": "pm_card_amex",
    "discover": "pm_card_discover",
}


def payment_method_for_test_card(card: CardDetails) -> str | None:
    """The test PaymentMethod standing in for this card, or None if Stripe has none."""
    return SCENARIO_PAYMENT_METHODS.get(card.number) or BRAND_PAYMENT_METHODS.get(card.brand)

"""Card details as a value object: Luhn and expiry checked, never printable in full."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.errors import ValidationFailed


def luhn_valid(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith("6011") or number.startswith("65"):
        return "discover"
    return "unknown"


@dataclass(frozen=True, slots=True, repr=False)
class CardDetails:
    number: str
    exp_month: int
    exp_year: int
    cvc: str  # "" for a saved card whose CVC has left the short-lived cache
    from_vault: bool = False  # opened by the card vault inside the provider call

    @classmethod
    def parse(cls, number: str, exp_month: int, exp_year: int, cvc: str, today: date,
              field_prefix: str = "payment_method.") -> CardDetails:
        digits = number.replace(" ", "").replace("-", "")
        if not (digits.isascii() and digits.isdigit()) or not 12 <= len(digits) <= 19 or not luhn_valid(digits):
            raise ValidationFailed("card number is not valid", field=field_prefix + "number", code="incorrect_number")
        if not 1 <= exp_month <= 12:
            raise ValidationFailed("exp_month must be 1-12", field=field_prefix + "exp_month", code="invalid_expiry")
        if exp_year < 100:
            exp_year += 2000
        if (exp_year, exp_month) < (today.year, today.month):
            raise ValidationFailed("the card has expired", field=field_prefix + "exp_year", code="expired_card")
        if not (cvc.isascii() and cvc.isdigit()) or not 3 <= len(cvc) <= 4:
            raise ValidationFailed("cvc must be 3 or 4 digits", field=field_prefix + "cvc", code="invalid_cvc")
        return cls(digits, exp_month, exp_year, cvc)

    @property
    def brand(self) -> str:
        return card_brand(self.number)

    @property
    def last4(self) -> str:
        return self.number[-4:]

    def __repr__(self) -> str:  # never leak the PAN or CVC into logs or tracebacks
        return f"CardDetails({self.brand} ****{self.last4} {self.exp_month:02d}/{self.exp_year})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class CardToken:
    """A vaulted card, referenced by token (the card vault issues these)."""

    token: str
    brand: str | None = None
    last4: str | None = None
    fingerprint: str | None = None  # the vault's fingerprint of the saved card (fraud rules use it)


PaymentMethod = CardDetails | CardToken | None  # None: a redirect provider (PayPal) collects it

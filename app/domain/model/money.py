"""Money as integer minor units plus an ISO 4217 currency. Never float."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.errors import ValidationFailed

# ISO 4217 minor-unit exponents of the currencies we accept.
CURRENCY_EXPONENTS: dict[str, int] = {
    "USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "CAD": 2, "AUD": 2, "NZD": 2, "SEK": 2,
    "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2, "HUF": 2, "INR": 2, "SGD": 2, "HKD": 2,
    "MXN": 2, "BRL": 2, "ZAR": 2, "CNY": 2, "ILS": 2, "AED": 2, "SAR": 2, "TRY": 2,
    "JPY": 0, "KRW": 0, "CLP": 0, "VND": 0, "ISK": 0, "XOF": 0, "XAF": 0, "UGX": 0,
    "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3, "IQD": 3, "LYD": 3,
}

# Default ceiling on a single amount, in minor units; configurable through settings.
DEFAULT_MAX_AMOUNT_MINOR = 100_000_000


def currency_code(currency: object) -> str:
    """The ISO 4217 code we know, upper-cased; ValidationFailed otherwise."""
    code = currency.upper() if isinstance(currency, str) else ""
    if code not in CURRENCY_EXPONENTS:
        raise ValidationFailed(f"unknown currency {currency!r}", field="currency", code="unknown_currency")
    return code


@dataclass(frozen=True, slots=True)
class Money:
    amount_minor: int
    currency: str

    @classmethod
    def of(cls, amount_minor: int, currency: str, max_amount_minor: int = DEFAULT_MAX_AMOUNT_MINOR) -> Money:
        """Validated constructor for amounts coming from outside."""
        if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
            raise ValidationFailed("amount must be an integer number of minor units", field="amount", code="invalid_amount")
        if amount_minor <= 0:
            raise ValidationFailed("amount must be greater than zero", field="amount", code="invalid_amount")
        if amount_minor > max_amount_minor:
            raise ValidationFailed(
                f"amount must not exceed {max_amount_minor} minor units", field="amount", code="amount_too_large"
            )
        return cls(amount_minor, currency_code(currency))

    @property
    def exponent(self) -> int:
        return CURRENCY_EXPONENTS[self.currency]

    def display(self) -> str:
        """Human form, e.g. '12.34 USD' or '500 JPY'."""
        if self.exponent == 0:
            return f"{self.amount_minor} {self.currency}"
        units, minor = divmod(self.amount_minor, 10**self.exponent)
        return f"{units}.{minor:0{self.exponent}d} {self.currency}"

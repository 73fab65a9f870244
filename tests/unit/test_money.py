"""Money: integer minor units of a known ISO 4217 currency, > 0 and within a maximum."""

from __future__ import annotations

import pytest

from app.domain.errors import ValidationFailed
from app.domain.model.money import DEFAULT_MAX_AMOUNT_MINOR, Money


def rejection(amount: object, currency: object = "USD", **kwargs: int) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as raised:
        Money.of(amount, currency, **kwargs)  # type: ignore[arg-type]
    return raised.value


@pytest.mark.parametrize("amount", [0, -1, -2500])
def test_zero_and_negative_amounts_are_rejected(amount):
    error = rejection(amount)
    assert error.code == "invalid_amount" and error.details["field"] == "amount"


@pytest.mark.parametrize("amount", [True, False, 10.0, 10.5, "100", None])
def test_non_integer_amounts_are_rejected(amount):
    error = rejection(amount)
    assert error.code == "invalid_amount" and error.details["field"] == "amount"


def test_amount_above_a_custom_maximum_is_rejected():
    error = rejection(1001, max_amount_minor=1000)
    assert error.code == "amount_too_large" and "1000" in error.message


def test_amount_at_the_maximum_is_accepted():
    assert Money.of(1000, "USD", max_amount_minor=1000).amount_minor == 1000
    assert Money.of(DEFAULT_MAX_AMOUNT_MINOR, "USD").amount_minor == DEFAULT_MAX_AMOUNT_MINOR


def test_default_maximum_applies():
    assert rejection(DEFAULT_MAX_AMOUNT_MINOR + 1).code == "amount_too_large"


@pytest.mark.parametrize("currency", ["XYZ", "US", "", "usdd", None, 840])
def test_unknown_currency_is_rejected(currency):
    error = rejection(100, currency)
    assert error.code == "unknown_currency" and error.details["field"] == "currency"


@pytest.mark.parametrize("given", ["usd", "Usd", "USD"])
def test_currency_is_normalised_to_upper_case(given):
    assert Money.of(100, given) == Money(100, "USD")


@pytest.mark.parametrize(("currency", "exponent"), [("JPY", 0), ("USD", 2), ("EUR", 2), ("KWD", 3)])
def test_exponent_follows_iso_4217(currency, exponent):
    assert Money.of(1, currency).exponent == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [
        (1234, "USD", "12.34 USD"),
        (5, "USD", "0.05 USD"),
        (100, "EUR", "1.00 EUR"),
        (500, "JPY", "500 JPY"),
        (1234, "KWD", "1.234 KWD"),
        (5, "KWD", "0.005 KWD"),
    ],
)
def test_display_places_the_decimal_point_by_exponent(amount, currency, shown):
    assert Money.of(amount, currency).display() == shown


def test_money_is_a_value():
    assert Money.of(100, "usd") == Money.of(100, "USD")
    assert Money.of(100, "USD") != Money.of(100, "EUR")
    assert len({Money.of(100, "USD"), Money.of(100, "USD")}) == 1

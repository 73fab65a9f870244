"""Card details: Luhn, expiry and CVC checked; the number and CVC never printed."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.errors import ValidationFailed
from app.domain.model.card import CardDetails, card_brand, luhn_valid

TODAY = date(2026, 5, 10)
VISA = "4242424242424242"


def parse(number: str = VISA, exp_month: int = 12, exp_year: int = 2030, cvc: str = "987") -> CardDetails:
    return CardDetails.parse(number, exp_month, exp_year, cvc, TODAY)


def refused(**kwargs) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as raised:
        parse(**kwargs)
    return raised.value


@pytest.mark.parametrize("written", [VISA, "4242 4242 4242 4242", "4242-4242-4242-4242"])
def test_valid_card_is_parsed_to_bare_digits(written):
    card = parse(written)
    assert card.number == VISA and card.brand == "visa" and card.last4 == "4242"
    assert (card.exp_month, card.exp_year, card.cvc) == (12, 2030, "987")


@pytest.mark.parametrize("number", [
    "4242424242424241",  # Luhn check digit off by one
    "4242abcd42424242",
    "42424242424",  # 11 digits
    "4" * 20,
    "",
])
def test_bad_number_is_refused(number):
    error = refused(number=number)
    assert error.code == "incorrect_number" and error.details["field"] == "payment_method.number"


@pytest.mark.parametrize("number", ["4242424242424242", "5555555555554444", "378282246310005", "79927398713"])
def test_luhn_accepts_known_good_numbers(number):
    assert luhn_valid(number)


@pytest.mark.parametrize("month", [0, 13])
def test_month_out_of_range_is_refused(month):
    assert refused(exp_month=month).code == "invalid_expiry"


@pytest.mark.parametrize(("month", "year"), [(4, 2026), (12, 2025), (4, 26), (12, 25)])
def test_expiry_in_the_past_is_refused(month, year):
    assert refused(exp_month=month, exp_year=year).code == "expired_card"


@pytest.mark.parametrize(("month", "year"), [(5, 2026), (5, 26), (1, 2027)])
def test_card_is_valid_through_its_expiry_month(month, year):
    assert parse(exp_month=month, exp_year=year).exp_year == 2000 + year % 100


def test_two_digit_year_means_this_century():
    assert parse(exp_year=31).exp_year == 2031


@pytest.mark.parametrize("cvc", ["12", "12345", "12a", ""])
def test_bad_cvc_is_refused(cvc):
    assert refused(cvc=cvc).code == "invalid_cvc"


def test_four_digit_cvc_is_accepted():
    assert parse("378282246310005", cvc="1234").cvc == "1234"


def test_repr_and_str_hide_number_and_cvc():
    card = parse(cvc="987")
    for shown in (repr(card), str(card), f"{card}", repr([card]), repr({"card": card})):
        assert VISA not in shown and "987" not in shown
        assert "****4242" in shown and "visa" in shown


@pytest.mark.parametrize(("number", "brand"), [
    ("4242424242424242", "visa"),
    ("5555555555554444", "mastercard"),
    ("2223003122003222", "mastercard"),
    ("2720990000000000", "mastercard"),
    ("378282246310005", "amex"),
    ("341111111111111", "amex"),
    ("6011111111111117", "discover"),
    ("6500000000000002", "discover"),
    ("3566002020360505", "unknown"),  # JCB: not a brand we name
    ("2721000000000000", "unknown"),
])
def test_card_brand(number, brand):
    assert card_brand(number) == brand


# str.isdigit() is true for non-ASCII digits (fullwidth, Arabic-Indic, superscripts), and
# luhn_valid() does arithmetic on code points, so such input passes validation.
FULLWIDTH_VISA = "".join(chr(ord(c) - ord("0") + ord("０")) for c in VISA)


def test_number_with_non_ascii_digits_is_refused():
    assert refused(number=FULLWIDTH_VISA).code == "incorrect_number"


def test_cvc_with_non_ascii_digits_is_refused():
    assert refused(cvc="١٢٣").code == "invalid_cvc"  # Arabic-Indic 1 2 3

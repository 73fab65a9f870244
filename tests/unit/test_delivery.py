"""Estimated delivery: lead time in calendar days, shipping in business days."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.model.delivery import add_business_days, estimate_delivery

FRIDAY = date(2026, 1, 16)


@pytest.mark.parametrize(("start", "days", "expected"), [
    (FRIDAY, 0, FRIDAY),
    (FRIDAY, 1, date(2026, 1, 19)),  # over the weekend to Monday
    (FRIDAY, 5, date(2026, 1, 23)),
    (date(2026, 1, 17), 0, date(2026, 1, 19)),  # ready on a Saturday: delivered Monday at the earliest
    (date(2026, 1, 18), 1, date(2026, 1, 19)),
])
def test_business_days_skip_weekends(start, days, expected):
    assert add_business_days(start, days) == expected


def test_the_slowest_product_sets_the_start():
    assert estimate_delivery(FRIDAY, [1, 3, 0], 2) == date(2026, 1, 21)  # Monday 19th + 2 business days
    assert estimate_delivery(FRIDAY, [], 0) == FRIDAY

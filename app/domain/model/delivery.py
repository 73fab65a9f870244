"""Estimated delivery: the slowest product's lead time (calendar days to have it ready),
then the shipping time in business days (Saturdays and Sundays do not count)."""

from __future__ import annotations

from datetime import date, timedelta

SATURDAY = 5


def add_business_days(start: date, days: int) -> date:
    """`days` weekdays after `start`; a result on a weekend moves to the Monday."""
    current, left = start, days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < SATURDAY:
            left -= 1
    while current.weekday() >= SATURDAY:
        current += timedelta(days=1)
    return current


def estimate_delivery(today: date, lead_times_days: list[int], shipping_business_days: int) -> date:
    ready = today + timedelta(days=max(lead_times_days, default=0))
    return add_business_days(ready, shipping_business_days)

"""`core.dates.months_later`: the same day later, or the month's last day (民法143条2項)."""

import datetime as dt

import pytest

from kokuho.core.dates import months_later


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (dt.date(2026, 1, 31), 1, dt.date(2026, 2, 28)),
        (dt.date(2028, 1, 31), 1, dt.date(2028, 2, 29)),
        (dt.date(2026, 10, 31), 1, dt.date(2026, 11, 30)),
        (dt.date(2026, 12, 15), 1, dt.date(2027, 1, 15)),
        (dt.date(2028, 2, 29), 12, dt.date(2029, 2, 28)),
        (dt.date(2026, 12, 8), 120, dt.date(2036, 12, 8)),
        (dt.date(2026, 5, 1), 0, dt.date(2026, 5, 1)),
    ],
)
def test_months_later(day, months, expected):
    assert months_later(day, months) == expected

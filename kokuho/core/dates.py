"""Calendar arithmetic the rules share (期間の計算)."""

from __future__ import annotations

import datetime as dt


def months_later(day: dt.date, months: int) -> dt.date:
    """The same day `months` later; a month without that day gives its last day (民法143条2項
    ただし書: 1月31日 + 1か月 → 2月28日). Years are 12 months: 2月29日 + 1年 → 2月28日."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")

"""Eligibility periods derived from facts (資格期間の導出) — pure functions, no database.

A person is insured here on a day when some *basis* covers the day (住民登録 here, or being
kept insured here after moving out under 住所地特例 / 修学中の特例) and no *exclusion* does
(被用者保険, 国保組合, 生活保護, 後期高齢者医療 at 75 or by 障害認定, another municipality's
住所地特例, short-stay foreigners). Periods are the maximal runs of insured days.

The legal date rules of eligibility.md §2 are applied when facts are turned into intervals
(`kokuho.eligibility.facts`); here an interval is already "the days it covers", so this
module is only interval arithmetic plus the choice of the reason shown at each boundary.
"""

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Interval:
    """Days `start`..`end` inclusive (`end` None: open). Reasons are event type names."""

    start: dt.date
    end: dt.date | None
    start_reason: str
    end_reason: str | None = None

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    @property
    def is_empty(self) -> bool:
        return self.end is not None and self.end < self.start


@dataclass(frozen=True)
class Period:
    """資格期間: `start` 取得日, `end` the last insured day (喪失日 − 1) or None."""

    start: dt.date
    end: dt.date | None
    acquired: str
    lost: str | None

    def covers(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def as_dict(self) -> dict[str, str | None]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat() if self.end else None,
            "acquired": self.acquired,
            "lost": self.lost,
        }


def anniversary(birth: dt.date, years: int) -> dt.date:
    """The `years`-th birthday. 2月29日生まれ: March 1 in a common year (民法143条 via 年齢計算
    ニ関スル法律: the age is reached at the end of February 28, so the new age starts Mar 1)."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return dt.date(birth.year + years, 3, 1)


def derive_periods(*, basis: Iterable[Interval], exclusions: Iterable[Interval]) -> list[Period]:
    """Insured periods = (union of basis) minus (union of exclusions), with reasons."""
    basis = [i for i in basis if not i.is_empty]
    exclusions = [i for i in exclusions if not i.is_empty]
    points = sorted(
        {i.start for i in (*basis, *exclusions)}
        | {i.end + ONE_DAY for i in (*basis, *exclusions) if i.end is not None}
    )
    periods: list[Period] = []
    open_start: dt.date | None = None
    for index, point in enumerate(points):
        insured = any(b.covers(point) for b in basis) and not any(
            x.covers(point) for x in exclusions
        )
        if insured and open_start is None:
            open_start = point
        elif not insured and open_start is not None:
            periods.append(_close(open_start, point - ONE_DAY, basis, exclusions))
            open_start = None
        if index == len(points) - 1 and open_start is not None:
            periods.append(_close(open_start, None, basis, exclusions))
    return periods


def _close(
    start: dt.date, end: dt.date | None, basis: Sequence[Interval], exclusions: Sequence[Interval]
) -> Period:
    return Period(start, end, _acquired(start, basis, exclusions), _lost(end, basis, exclusions))


def _acquired(start: dt.date, basis: Sequence[Interval], exclusions: Sequence[Interval]) -> str:
    # A new basis (転入, 出生) names the acquisition before a lifted exclusion does: when both
    # fall on one day the registry event is what the counter saw.
    for interval in basis:
        if interval.start == start:
            return interval.start_reason
    for interval in exclusions:
        if interval.end is not None and interval.end + ONE_DAY == start and interval.end_reason:
            return interval.end_reason
    return next(b.start_reason for b in basis if b.covers(start))


def _lost(
    end: dt.date | None, basis: Sequence[Interval], exclusions: Sequence[Interval]
) -> str | None:
    if end is None:
        return None
    for interval in basis:
        if interval.end == end and interval.end_reason:
            return interval.end_reason
    for interval in exclusions:
        if interval.start == end + ONE_DAY:
            return interval.start_reason
    return None


def insured_on(periods: Iterable[Period], day: dt.date) -> Period | None:
    return next((p for p in periods if p.covers(day)), None)


def first_difference(old: Sequence[Period], new: Sequence[Period]) -> dt.date | None:
    """The earliest day whose insured status or period differs between two versions."""
    if list(old) == list(new):
        return None
    candidates = []
    for a, b in zip(old, new, strict=False):
        if a != b:
            candidates.append(min(a.start, b.start) if a.start != b.start else _end_diff(a, b))
            break
    longer = old if len(old) > len(new) else new
    if len(old) != len(new):
        candidates.append(longer[min(len(old), len(new))].start)
    return min(candidates)


def _end_diff(a: Period, b: Period) -> dt.date:
    ends = [e for e in (a.end, b.end) if e is not None]
    # Same start: they differ from the day after the earlier end (or in reasons only: start).
    return min(ends) + ONE_DAY if ends and a.end != b.end else a.start

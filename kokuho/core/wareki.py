"""和暦 (Japanese era calendar) parsing and formatting.

Clerks type dates in whatever form is on the paper in front of them — 西暦 from a passport,
``S35.5.10`` from an old ledger, ``昭和35年5月10日`` from a 住民票 — so :func:`parse_date`
accepts all the common spellings and rejects everything else with a Japanese message that can
be shown in a form as-is.

Era boundaries follow the 改元 dates (e.g. 昭和64年1月7日 is the last day of 昭和, 平成元年1月8日
the first of 平成). Dates are proleptic Gregorian throughout: before 明治6年 (1873) Japan used the
lunisolar calendar, but no NHI record needs such dates, and converting them would be a
historian's job rather than ours.

Pure Python (no Django), so it can be used from forms, templates filters and batch imports.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

__all__ = [
    "ERAS",
    "Era",
    "WarekiError",
    "era_of",
    "format_both",
    "format_wareki",
    "format_wareki_short",
    "parse_date",
    "to_wareki_year",
]


class WarekiError(ValueError):
    """Raised for any date string that cannot be read as a 西暦 or 和暦 date."""


@dataclass(frozen=True, slots=True)
class Era:
    """One 元号 (era): its name, one-letter and one-kanji abbreviations and its date range."""

    name: str  # 昭和
    letter: str  # S
    kanji: str  # 昭
    start: dt.date
    end: dt.date | None  # None for the current era

    def contains(self, d: dt.date) -> bool:
        return self.start <= d and (self.end is None or d <= self.end)

    def year_of(self, d: dt.date) -> int:
        """The era year (和暦年) of ``d``, counting the year of 改元 as 1 (元年)."""
        return d.year - self.start.year + 1

    def western_year(self, era_year: int) -> int:
        return self.start.year + era_year - 1

    def describe_range(self) -> str:
        """Human-readable 期間 for error messages, e.g. 1926年12月25日から1989年1月7日まで."""
        start = _format_western_kanji(self.start)
        if self.end is None:
            return f"{start}から"
        return f"{start}から{_format_western_kanji(self.end)}まで"


def _build_eras(*rows: tuple[str, str, str, dt.date]) -> tuple[Era, ...]:
    # Each era ends the day before the next begins, so only start dates are written down and the
    # table cannot contradict itself.
    eras = []
    for i, (name, letter, kanji, start) in enumerate(rows):
        end = rows[i + 1][3] - dt.timedelta(days=1) if i + 1 < len(rows) else None
        eras.append(Era(name=name, letter=letter, kanji=kanji, start=start, end=end))
    return tuple(eras)


# The single source of truth for era boundaries. Add a new era by appending one row.
ERAS: tuple[Era, ...] = _build_eras(
    ("明治", "M", "明", dt.date(1868, 10, 23)),
    ("大正", "T", "大", dt.date(1912, 7, 30)),
    ("昭和", "S", "昭", dt.date(1926, 12, 25)),
    ("平成", "H", "平", dt.date(1989, 1, 8)),
    ("令和", "R", "令", dt.date(2019, 5, 1)),
)

_ERA_BY_TOKEN: dict[str, Era] = {}
for _era in ERAS:
    _ERA_BY_TOKEN[_era.name] = _era
    _ERA_BY_TOKEN[_era.kanji] = _era
    _ERA_BY_TOKEN[_era.letter] = _era
    _ERA_BY_TOKEN[_era.letter.lower()] = _era
del _era

_FORMAT_HINT = "（例: 1960-05-10, S35.5.10, 昭和35年5月10日）"

# Longest alternatives first so that 昭和 is not read as 昭 followed by garbage.
_ERA = "(?P<era>" + "|".join(sorted(map(re.escape, _ERA_BY_TOKEN), key=len, reverse=True)) + ")"
# Three digits rather than two so that S100.1.1 gets the helpful "outside 昭和" message instead
# of a generic format error.
_ERA_YEAR = r"(?P<year>[0-9]{1,3}|元)"
_MONTH = r"(?P<month>[0-9]{1,2})"
_DAY = r"(?P<day>[0-9]{1,2})"
_KANJI_MD = rf"\s*年\s*{_MONTH}\s*月\s*{_DAY}\s*日"

# [0-9] rather than \d: \d also matches e.g. Arabic-Indic digits, which NFKC leaves alone.
_WESTERN_PATTERNS = (
    re.compile(rf"(?P<year>[0-9]{{4}})(?P<sep>[-/.]){_MONTH}(?P=sep){_DAY}"),
    re.compile(r"(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})"),
    re.compile(rf"(?P<year>[0-9]{{4}}){_KANJI_MD}"),
)
_WAREKI_PATTERNS = (
    re.compile(rf"{_ERA}\s*{_ERA_YEAR}(?P<sep>[-/.]){_MONTH}(?P=sep){_DAY}"),
    re.compile(rf"{_ERA}(?P<year>[0-9]{{2}})(?P<month>[0-9]{{2}})(?P<day>[0-9]{{2}})"),
    re.compile(rf"{_ERA}\s*{_ERA_YEAR}{_KANJI_MD}"),
)


def parse_date(text: str) -> dt.date:
    """Parse a 西暦 or 和暦 date as typed by a clerk.

    Accepted after NFKC (so full-width digits, letters and ㍼-style era ligatures work) and
    stripping:

    * 西暦: ``1960-05-10``, ``1960/5/10``, ``1960.5.10``, ``19600510``, ``1960年5月10日``
    * 和暦: ``S35.5.10`` (also ``/`` or ``-``, lower-case letter), ``S350510`` (era + 6 digits),
      ``昭和35年5月10日``, ``昭和35.5.10``, ``昭35.5.10``, ``令和元年5月1日``, ``R1.5.1``

    The era letters are M 明治, T 大正, S 昭和, H 平成, R 令和.

    Raises :class:`WarekiError` (never anything else for a ``str``) for empty input, an
    unknown format, an impossible date such as 2月30日, era year 0, or a date outside its
    era (昭和64年1月8日, H1.1.7, 令和1年4月30日, 平成31年5月1日).
    """
    original = text.strip()
    if not original:
        raise WarekiError("日付が入力されていません")
    normalized = unicodedata.normalize("NFKC", original).strip()

    for pattern in _WESTERN_PATTERNS:
        if match := pattern.fullmatch(normalized):
            year, month, day = (int(match[g]) for g in ("year", "month", "day"))
            return _make_date(year, month, day, f"{year}年{month}月{day}日")

    for pattern in _WAREKI_PATTERNS:
        if match := pattern.fullmatch(normalized):
            return _parse_wareki_match(match, original)

    raise WarekiError(f"日付の形式が正しくありません: '{_shorten(original)}'{_FORMAT_HINT}")


def _parse_wareki_match(match: re.Match[str], original: str) -> dt.date:
    era = _ERA_BY_TOKEN[match["era"]]
    era_year = 1 if match["year"] == "元" else int(match["year"])
    month, day = int(match["month"]), int(match["day"])
    if era_year == 0:
        raise WarekiError(f"和暦の年は1（元年）以上で入力してください: '{_shorten(original)}'")
    label = f"{era.name}{_era_year_label(era_year)}{month}月{day}日"
    d = _make_date(era.western_year(era_year), month, day, label)
    if not era.contains(d):
        raise WarekiError(f"{label}は{era.name}の期間外です（{era.name}は{era.describe_range()}）")
    return d


def _make_date(year: int, month: int, day: int, label: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise WarekiError(f"存在しない日付です: {label}") from None


def _shorten(text: str, limit: int = 40) -> str:
    # The message is shown back in a form field; a pasted paragraph should not flood it.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def era_of(d: dt.date) -> Era | None:
    """The 元号 in effect on ``d``, or None for dates before 明治 began (1868-10-23)."""
    for era in reversed(ERAS):
        if d >= era.start:
            return era
    return None


def to_wareki_year(d: dt.date) -> tuple[Era, int]:
    """Return (era, 和暦年) for ``d``; raises :class:`WarekiError` before 明治."""
    era = era_of(d)
    if era is None:
        raise WarekiError(f"明治より前の日付は和暦に変換できません: {d.isoformat()}")
    return era, era.year_of(d)


def _era_year_label(era_year: int) -> str:
    return "元年" if era_year == 1 else f"{era_year}年"


def _format_western_kanji(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def format_wareki(d: dt.date) -> str:
    """Long 和暦 form: ``昭和35年5月10日``, ``令和元年5月1日``.

    Before 明治 the 西暦 date in the same style is returned (``1868年10月22日``), which
    :func:`parse_date` reads back.
    """
    era = era_of(d)
    if era is None:
        return _format_western_kanji(d)
    return f"{era.name}{_era_year_label(era.year_of(d))}{d.month}月{d.day}日"


def format_wareki_month(d: dt.date) -> str:
    """The 和暦 of the month, without a day: ``令和8年7月`` (a 診療月, a 支払月)."""
    return format_wareki(d).rsplit("月", 1)[0] + "月"


def format_wareki_short(d: dt.date) -> str:
    """Short, fixed-width 和暦 form for lists: ``S35.05.10``, ``R01.05.01``.

    Before 明治 the ISO date is returned (``1868-10-22``).
    """
    era = era_of(d)
    if era is None:
        return d.isoformat()
    return f"{era.letter}{era.year_of(d):02d}.{d.month:02d}.{d.day:02d}"


def format_both(d: dt.date) -> str:
    """和暦 with the 西暦 in brackets: ``昭和35年5月10日（1960-05-10）``.

    Before 明治 only the ISO date is returned, as there is nothing to put in the brackets.
    """
    if era_of(d) is None:
        return d.isoformat()
    return f"{format_wareki(d)}（{d.isoformat()}）"

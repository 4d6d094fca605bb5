"""From recorded facts to the intervals `derivation` works on — the date rules of §2.

This is the one place where eligibility.md §2's table lives in code: which day a fact
starts or ends NHI. Each rule names its legal basis. Inputs are plain rows so that the
rules can be tested without a database; `selectors.person_facts` reads them from it.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from kokuho.eligibility.derivation import ONE_DAY, Interval, anniversary

# 住基異動 codes that start or end residence (interfaces.md §1), with the scenario's name.
RESIDENCE_START = {"INIT": None, "A01": "move_in", "A02": "birth", "A03": "move_in"}
RESIDENCE_END = {"B01": "move_out", "B02": "death", "B03": "move_out"}
DEATH = "B02"


@dataclass(frozen=True)
class RegistryFact:
    """One registry change of the person (from `people.PersonHistory`)."""

    code: str
    date: dt.date
    abroad: bool = False  # 転出先 国外 (B01) — and B03 職権消除 is treated the same


@dataclass(frozen=True)
class CoverageFact:
    """A period covered by something that excludes NHI (`people.OtherCoverage`).

    `start` is the day the other scheme starts (社保 資格取得日, 保護開始日 …); `end` is its last
    day (the day before its loss date / 廃止日), None while it lasts.
    """

    kind: str
    start: dt.date
    end: dt.date | None


@dataclass(frozen=True)
class KeptFact:
    """住所地特例 (facility) or 修学中の特例 (student): insured here although living elsewhere."""

    kind: str  # "facility" | "student"
    start: dt.date
    end: dt.date | None


# kind → (days of overlap for a person already insured when the other scheme starts, reason
#         at start, reason at end, legal basis). 社保 ends NHI the day *after* it starts (法8条1項
# — 喪失は該当した日の翌日); 生活保護 and 国保組合 end it on that day (法8条2項 / 6条9号・10号);
# 後期 by 障害認定 from the 認定日 (法6条8号, 8条1項ただし書); a short stay found after arrival
# ends it the next day (施行規則1条; "verify" in the spec).
EXCLUSION_RULES: dict[str, tuple[int, str, str, str]] = {
    "employee_insurance": (
        1,
        "employee_insurance_join",
        "employee_insurance_leave",
        "国保法6条1号〜7号, 8条1項",
    ),
    "union": (0, "union_join", "union_leave", "国保法6条10号, 8条2項"),
    "welfare": (0, "welfare_start", "welfare_end", "国保法6条9号, 8条2項"),
    "late_elderly_disability": (
        0,
        "disability_late_elderly",
        "disability_withdrawn",
        "国保法6条8号; 高確法50条2号",
    ),
    "other_municipality": (0, "move_in", "special_address_end", "国保法116条の2"),
    "short_stay": (1, "foreign_short_stay", "foreign_stay_extended", "国保法施行規則1条1号"),
}

KEPT_REASONS = {
    "facility": ("facility_move_out", "special_address_end"),  # 国保法116条の2
    "student": ("student_move_out", "student_end"),  # 国保法116条
}


def residence_intervals(events: Iterable[RegistryFact]) -> list[Interval]:
    """住民登録 periods. 転出 to an address in Japan ends the day before the move (法8条1項
    ただし書: the new municipality starts that day); 国外転出, 職権消除 and 死亡 end on the day."""
    intervals: list[Interval] = []
    opened: tuple[dt.date, str] | None = None
    for event in events:
        if event.code in RESIDENCE_START and opened is None:
            opened = (event.date, RESIDENCE_START[event.code] or "move_in")
        elif event.code in RESIDENCE_END and opened is not None:
            same_day = event.code != "B01" or event.abroad
            end = event.date if same_day else event.date - ONE_DAY
            intervals.append(Interval(opened[0], end, opened[1], RESIDENCE_END[event.code]))
            opened = None
    if opened is not None:
        intervals.append(Interval(opened[0], None, opened[1]))
    return intervals


def initial_reason(birth_date: dt.date, resident_from: dt.date) -> str:
    """For a person loaded from the registry at go-live (初期移行): born here or moved in."""
    return "birth" if birth_date == resident_from else "move_in"


def exclusion_intervals(
    *,
    birth_date: dt.date,
    coverages: Iterable[CoverageFact],
    residence: list[Interval],
    late_elderly_age: int,
) -> list[Interval]:
    intervals = [Interval(anniversary(birth_date, late_elderly_age), None, "age_75")]
    for fact in coverages:
        overlap, start_reason, end_reason, _basis = EXCLUSION_RULES[fact.kind]
        start = fact.start
        if any(r.covers(fact.start - ONE_DAY) for r in residence):
            # The overlap day exists only for someone already living (so insured) here when
            # the other scheme began; a person who arrives already covered is never insured.
            start += dt.timedelta(days=overlap)
        intervals.append(Interval(start, fact.end, start_reason, end_reason))
    return intervals


def basis_intervals(
    *, residence: list[Interval], kept: Iterable[KeptFact], death: dt.date | None
) -> list[Interval]:
    intervals = list(residence)
    for fact in kept:
        start_reason, end_reason = KEPT_REASONS[fact.kind]
        end = fact.end
        if death is not None and (end is None or end > death):
            end, end_reason = death, "death"
        intervals.append(Interval(fact.start, end, start_reason, end_reason))
    return intervals


def person_intervals(
    *,
    birth_date: dt.date,
    registry: Iterable[RegistryFact],
    coverages: Iterable[CoverageFact],
    kept: Iterable[KeptFact],
    late_elderly_age: int,
    as_of: dt.date,
) -> tuple[list[Interval], list[Interval]]:
    """(basis, exclusions) for one person, from their raw facts in date order.

    `registry` may hold the go-live code INIT (read as 出生 or 転入). A 75th birthday after
    `as_of` is not a fact yet, so it does not close the period (scenarios.md).
    """
    events = []
    for fact in registry:
        code = fact.code
        if code == "INIT":
            code = "A02" if initial_reason(birth_date, fact.date) == "birth" else "A01"
        events.append(RegistryFact(code, fact.date, fact.abroad or code == "B03"))
    residence = residence_intervals(events)
    death = next((e.date for e in events if e.code == DEATH), None)
    exclusions = [
        x
        for x in exclusion_intervals(
            birth_date=birth_date,
            coverages=coverages,
            residence=residence,
            late_elderly_age=late_elderly_age,
        )
        if x.start_reason != "age_75" or x.start <= as_of
    ]
    return basis_intervals(residence=residence, kept=kept, death=death), exclusions

"""デモ市の概況 (city summary): residents by age band and household type, foreign residents and
the expected NHI population, counted in the database (two aggregate queries, no row loops).
"""

import unicodedata
from dataclasses import dataclass
from datetime import date

from django.db.models import Case, Count, Exists, F, OuterRef, Q, Value, When

from kokuho.core.wareki import format_both
from kokuho.demo.city import MUNICIPALITY, HouseholdType
from kokuho.people.models import OtherCoverage, Person, Relation
from kokuho.rules.params import parameters

__all__ = ["AGE_BANDS", "CitySummary", "city_summary", "format_summary", "years_before"]

# (label, youngest, oldest or None). 0–5 stands in for 未就学 (school starts the April after
# the 6th birthday; the exact cut is not needed for an overview).
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0〜5歳（未就学相当）", 0, 5),
    ("6〜14歳", 6, 14),
    ("15〜39歳", 15, 39),
    ("40〜64歳", 40, 64),
    ("65〜69歳", 65, 69),
    ("70〜74歳", 70, 74),
    ("75歳以上", 75, None),
)


@dataclass(frozen=True)
class CitySummary:
    """概況 as of ``on`` (基準日). Counts are of current residents (住民) on that day."""

    on: date
    residents: int
    households: int
    foreigners: int
    nhi_expected: int  # 国保対象見込み: no other coverage open on `on`, younger than 75
    age_bands: dict[str, int]  # AGE_BANDS label -> residents
    household_types: dict[HouseholdType, int]  # 世帯類型 -> households

    @property
    def nhi_expected_percent(self) -> float:
        return 100.0 * self.nhi_expected / self.residents if self.residents else 0.0


def years_before(on: date, years: int) -> date:
    """The latest birth date of someone aged ``years`` or more on ``on`` (誕生日で加齢).

    When ``on`` is 29 February and the year ``years`` earlier is a common year, that is 28
    February. A leap-day baby so turns a year older on 1 March in common years: a day after
    the legal 加齢 at the end of 28 February, which is close enough for an overview.
    """
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)


def _current_residents(on: date) -> Q:
    """住民 on ``on``: born, registered by then, and not yet gone (住民でなくなった日 > on)."""
    return Q(resident_from__lte=on, birth_date__lte=on) & (
        Q(resident_until__isnull=True) | Q(resident_until__gt=on)
    )


def _age_between(on: date, youngest: int, oldest: int | None) -> Q:
    q = Q(birth_date__lte=years_before(on, youngest))
    if oldest is not None:
        q &= Q(birth_date__gt=years_before(on, oldest + 1))
    return q


def _present(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0))


def _household_type_counts(on: date) -> tuple[int, dict[HouseholdType, int]]:
    """Classify each household by its current members' 続柄 (in SQL), then count per type."""
    r = Relation
    per_household = (
        Person.objects.filter(_current_residents(on))
        .values("household_id")
        .annotate(
            members=Count("id"),
            spouses=Count("id", filter=Q(relation__in=[r.WIFE, r.HUSBAND])),
            children=Count("id", filter=Q(relation=r.CHILD)),
            fathers=Count("id", filter=Q(relation=r.FATHER)),
            mothers=Count("id", filter=Q(relation=r.MOTHER)),
            siblings=Count(
                "id",
                filter=Q(
                    relation__in=[
                        r.ELDER_BROTHER,
                        r.ELDER_SISTER,
                        r.YOUNGER_BROTHER,
                        r.YOUNGER_SISTER,
                    ]
                ),
            ),
            grandparents=Count("id", filter=Q(relation__in=[r.GRANDFATHER, r.GRANDMOTHER])),
            grandchildren=Count("id", filter=Q(relation=r.GRANDCHILD)),
        )
        .annotate(
            # Generations besides the 世帯主's own; two more make three (三世代). A 孫 living
            # with a grandparent only is a skipped generation (その他), as in the census.
            other_generations=_present(Q(grandparents__gt=0))
            + _present(Q(fathers__gt=0) | Q(mothers__gt=0))
            + _present(Q(children__gt=0))
            + _present(Q(grandchildren__gt=0)),
        )
        .annotate(
            kind=Case(
                When(members=1, then=Value(HouseholdType.SINGLE.value)),
                When(other_generations__gte=2, then=Value(HouseholdType.THREE_GENERATION.value)),
                When(members=2, spouses=1, then=Value(HouseholdType.COUPLE.value)),
                # A couple and their children — also when the 世帯主 is the child of the couple.
                When(
                    Q(spouses=1, children__gt=0, members=2 + F("children"))
                    | Q(fathers=1, mothers=1, members=3 + F("siblings")),
                    then=Value(HouseholdType.COUPLE_WITH_CHILDREN.value),
                ),
                When(
                    Q(spouses=0, children__gt=0, members=1 + F("children"))
                    | Q(fathers=1, mothers=0, members=2 + F("siblings"))
                    | Q(fathers=0, mothers=1, members=2 + F("siblings")),
                    then=Value(HouseholdType.SINGLE_PARENT.value),
                ),
                default=Value(HouseholdType.OTHER.value),
            )
        )
    )
    totals = per_household.aggregate(
        households=Count("household_id"),
        **{
            f"type_{i}": Count("household_id", filter=Q(kind=kind.value))
            for i, kind in enumerate(HouseholdType)
        },
    )
    counts = {kind: totals[f"type_{i}"] for i, kind in enumerate(HouseholdType)}
    return totals["households"], counts


def city_summary(*, on: date) -> CitySummary:
    """Compute the 概況 as of ``on`` with two aggregate queries.

    国保対象見込み counts current residents under the 後期高齢者 age (parameter
    eligibility.late_elderly_age, 75) with no OtherCoverage open on ``on`` (start ≤ on ≤ end).
    It is an estimate for the overview, not the eligibility derivation.
    """
    late_elderly_age = parameters().at(on).eligibility.late_elderly_age
    open_coverage = OtherCoverage.objects.filter(person=OuterRef("pk"), start__lte=on).filter(
        Q(end__isnull=True) | Q(end__gte=on)
    )
    band_counts = {
        f"band_{i}": Count("id", filter=_age_between(on, youngest, oldest))
        for i, (_, youngest, oldest) in enumerate(AGE_BANDS)
    }
    totals = Person.objects.filter(_current_residents(on)).aggregate(
        residents=Count("id"),
        foreigners=Count("id", filter=Q(is_foreign=True)),
        nhi_expected=Count(
            "id",
            filter=Q(birth_date__gt=years_before(on, late_elderly_age)) & ~Exists(open_coverage),
        ),
        **band_counts,
    )
    households, types = _household_type_counts(on)
    return CitySummary(
        on=on,
        residents=totals["residents"],
        households=households,
        foreigners=totals["foreigners"],
        nhi_expected=totals["nhi_expected"],
        age_bands={label: totals[f"band_{i}"] for i, (label, _, _) in enumerate(AGE_BANDS)},
        household_types=types,
    )


# --- Terminal text -------------------------------------------------------------------------


def _width(text: str) -> int:
    """Columns a string takes in a terminal (全角 = 2)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _left(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _right(text: str, width: int) -> str:
    return " " * max(0, width - _width(text)) + text


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f}%" if whole else "-"


def format_summary(summary: CitySummary) -> str:
    """The 概況 as a Japanese table for the terminal (full-width aware alignment)."""
    s = summary
    label_width = 24
    lines = [
        f"デモ市（{MUNICIPALITY}）の概況 — 基準日 {format_both(s.on)}",
        "",
        f"  {_left('住民数', label_width)}{_right(f'{s.residents:,}', 10)} 人",
        f"  {_left('世帯数', label_width)}{_right(f'{s.households:,}', 10)} 世帯",
        f"  {_left('外国人住民', label_width)}{_right(f'{s.foreigners:,}', 10)} 人"
        f"{_right(_percent(s.foreigners, s.residents), 8)}",
        f"  {_left('国保対象見込み', label_width)}{_right(f'{s.nhi_expected:,}', 10)} 人"
        f"{_right(_percent(s.nhi_expected, s.residents), 8)}"
        "  （他制度に加入なし・75歳未満）",
        "",
        f"  {_left('年齢階級', label_width)}{_right('人数', 10)}   {_right('割合', 8)}",
    ]
    for label, count in s.age_bands.items():
        lines.append(
            f"  {_left(label, label_width)}{_right(f'{count:,}', 10)}   "
            f"{_right(_percent(count, s.residents), 8)}"
        )
    lines += ["", f"  {_left('世帯類型', label_width)}{_right('世帯数', 10)}   {_right('割合', 8)}"]
    for kind, count in s.household_types.items():
        lines.append(
            f"  {_left(kind.value, label_width)}{_right(f'{count:,}', 10)}   "
            f"{_right(_percent(count, s.households), 8)}"
        )
    return "\n".join(lines)

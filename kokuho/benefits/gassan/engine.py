"""高額介護合算療養費 (the yearly benefit on a household's combined medical and long-term-care
co-payments): one household, one 計算期間 (8/1–7/31), as a pure function.

The input is what is left of each member's year after 高額療養費 and 高額介護サービス費
(自己負担額); `gassan_compute` applies the yearly limits (介護合算算定基準額) of payments.md §2:
the 70–74 members' sum first, then the whole household. `kokuho gassan calc` feeds it one
household from a file; a yearly run over the database is meant to call the same function.
"""

import datetime as dt
import unicodedata
from dataclasses import dataclass
from typing import Any

from kokuho.eligibility.derivation import anniversary
from kokuho.rules.params import ParameterError, parameters

UNDER70 = "under70"
ELDERLY = "70_74"

LIMITS = {UNDER70: "gassan.limits_under70", ELDERLY: "gassan.limits_70_74"}
MINIMUM_PAYMENT = "gassan.minimum_payment"
# 計算期間 (国民健康保険法施行令 第29条の4の2): from 8/1 to the next 7/31, the 基準日. A
# definition of the law, not an amount: it has no dated parameter.
PERIOD_START_MONTH = 8

GROUP_TEXT = {UNDER70: "70歳未満", ELDERLY: "70〜74歳"}


class YearNotCovered(ParameterError):
    """No yearly limits are registered for a period whose 基準日 is this early."""


class HouseholdInvalid(ValueError):
    """The household contradicts the rules (checked before by the calc input)."""


@dataclass(frozen=True)
class Band:
    """One 所得区分 row: `key` as in the parameter files, `label` as staff and inputs say it."""

    group: str  # UNDER70 | ELDERLY
    key: str
    label: str
    limit: int  # 介護合算算定基準額 (yen per year)


@dataclass(frozen=True)
class UsedValue:
    """Which dated value was applied, for the explanation and a stored decision."""

    name: str
    start: dt.date
    status: str
    reference: str


@dataclass(frozen=True)
class YearRules:
    year: int  # the 計算期間 starts on 8/1 of this year
    period_start: dt.date
    reference_day: dt.date  # 基準日 (7/31 of the next year)
    bands: dict[tuple[str, str], Band]
    minimum_payment: int  # paid only when the excess is over this
    elderly_age: int  # 70: the 70–74 limits apply from this age on the 基準日
    late_elderly_age: int  # 75: 後期高齢者医療 from this birthday, no longer an NHI member
    used: tuple[UsedValue, ...]

    def band(self, group: str, key: str) -> Band:
        return self.bands[(group, key)]

    def band_for_label(self, group: str, label: str) -> Band | None:
        wanted = label_key(label)
        for (g, _), band in self.bands.items():
            if g == group and label_key(band.label) == wanted:
                return band
        return None

    def labels(self, group: str) -> list[str]:
        return [b.label for (g, _), b in self.bands.items() if g == group]


@dataclass(frozen=True)
class MemberYear:
    """One member's year: 自己負担額 after 高額療養費 (medical) and 高額介護サービス費 (care)."""

    id: str
    birth: dt.date
    medical: int = 0
    care: int = 0


@dataclass(frozen=True)
class HouseholdYear:
    """The household on the 基準日, with its 所得区分 keys (None for an age group it lacks)."""

    year: int
    category: str | None  # under-70 所得区分 key (a, i, u, e, o)
    category_70: str | None  # 70–74 所得区分 key (genekinami_3 … low1)
    members: tuple[MemberYear, ...]


@dataclass(frozen=True)
class MemberLine:
    id: str
    birth: dt.date
    age: int  # on the 基準日, reached on the day before the birthday
    group: str
    medical: int
    care: int


@dataclass(frozen=True)
class Step:
    """One limit applied: what entered, the limit, the excess and its split."""

    name: str  # ELDERLY (the 70–74 members) | "household" (every member)
    band: Band
    medical: int
    care: int
    excess: int
    medical_share: int
    care_share: int

    @property
    def entering(self) -> int:
        return self.medical + self.care


@dataclass(frozen=True)
class GassanOutcome:
    household: HouseholdYear
    rules: YearRules
    members: tuple[MemberLine, ...]
    steps: tuple[Step, ...]
    excess_70_74: int
    excess: int
    paid: bool
    medical_share: int  # 0 when not paid
    care_share: int


_ROMAN = str.maketrans({"1": "I", "2": "II", "3": "III"})


def label_key(label: str) -> str:
    """現役並みⅢ, 現役並みIII and 現役並み3 name the same band (NFKC turns Ⅲ into III)."""
    text = unicodedata.normalize("NFKC", str(label)).replace(" ", "").upper()
    return text.translate(_ROMAN) if text[-1:].isdigit() else text


def period_of(year: int) -> tuple[dt.date, dt.date]:
    """The 計算期間 of `year`: (8/1 of it, the 基準日 7/31 of the next)."""
    start = dt.date(year, PERIOD_START_MONTH, 1)
    return start, dt.date(year + 1, PERIOD_START_MONTH, 1) - dt.timedelta(days=1)


def year_rules(year: int) -> YearRules:
    """The limits for the year whose 基準日 is 7/31 of `year + 1`, confirmed values only.

    Raises `YearNotCovered` before the first registered value, `ParameterUnconfirmed` on a
    provisional one: the year is never computed with another period's values.
    """
    start, reference_day = period_of(year)
    params = parameters()
    used: list[UsedValue] = []

    def value(name: str) -> Any:
        parameter = params.get(name)
        first = parameter.values[0].start
        if reference_day < first:
            raise YearNotCovered(
                f"{year}年の計算期間（{start}〜{reference_day}、基準日 {reference_day}）の"
                f"{parameter.description.split('（')[0]}は登録されていません"
                f"（基準日が {first} 以後の年から: {first.year}年8月〜）"
            )
        entry = parameter.entry_at(reference_day)
        used.append(UsedValue(name, entry.start, entry.status, entry.reference))
        return parameter.confirmed_at(reference_day)

    bands = {}
    for group, name in LIMITS.items():
        for key, row in value(name).items():
            bands[(group, key)] = Band(group, key, str(row["label"]), int(row["limit"]))
    minimum = int(value(MINIMUM_PAYMENT))
    at_day = params.at(reference_day)
    return YearRules(
        year=year,
        period_start=start,
        reference_day=reference_day,
        bands=bands,
        minimum_payment=minimum,
        elderly_age=int(at_day.copay.ages["elderly_from"]),
        late_elderly_age=int(at_day.eligibility.late_elderly_age),
        used=tuple(used),
    )


def age_on(birth: dt.date, day: dt.date) -> int:
    """The age on `day`, an age being reached on the day before the birthday (年齢計算ニ関スル
    法律, 民法143条): someone born on 8/1 is a year older on 7/31. 2/29: reached on 2/28."""
    following = day + dt.timedelta(days=1)
    return (
        following.year - birth.year - ((following.month, following.day) < (birth.month, birth.day))
    )


def is_late_elderly(birth: dt.date, rules: YearRules) -> bool:
    """Already in 後期高齢者医療 on the 基準日: its membership starts on the 75th birthday itself
    (高齢者の医療の確保に関する法律 第52条), as `kokuho kogaku calc` counts it too."""
    return anniversary(birth, rules.late_elderly_age) <= rules.reference_day


def member_group(birth: dt.date, rules: YearRules) -> str:
    """ELDERLY when 70 or older on the 基準日 (and still an NHI member), else UNDER70."""
    if is_late_elderly(birth, rules):
        raise HouseholdInvalid(f"{birth}生は基準日 {rules.reference_day} に後期高齢者医療です")
    return ELDERLY if age_on(birth, rules.reference_day) >= rules.elderly_age else UNDER70


def split(excess: int, medical: int, care: int) -> tuple[int, int]:
    """`excess` in proportion to `medical` : `care`; medical rounded down to the yen, the
    remainder to care, so that the two always add up to `excess`."""
    total = medical + care
    if excess <= 0 or total <= 0:
        return 0, max(excess, 0)
    medical_share = excess * medical // total
    return medical_share, excess - medical_share


def _step(name: str, band: Band, medical: int, care: int) -> Step:
    excess = max(0, medical + care - band.limit)
    medical_share, care_share = split(excess, medical, care)
    return Step(name, band, medical, care, excess, medical_share, care_share)


def gassan_compute(household: HouseholdYear, rules: YearRules) -> GassanOutcome:
    """The year's excess over the limits, whether it is paid, and its 医療/介護 split.

    Mixed household: the 70–74 members' medical + care is limited by the 70–74 band; what
    is left of it (each side reduced by its share of that excess) joins the under-70
    members' costs, limited by the under-70 band. One age group only: its one step.
    """
    if household.year != rules.year:
        raise HouseholdInvalid(f"世帯の年 {household.year} と規則の年 {rules.year} が違います")
    lines = tuple(
        MemberLine(
            m.id,
            m.birth,
            age_on(m.birth, rules.reference_day),
            member_group(m.birth, rules),
            m.medical,
            m.care,
        )
        for m in household.members
    )
    groups = {line.group for line in lines}
    for group, key in ((UNDER70, household.category), (ELDERLY, household.category_70)):
        if (group in groups) != (key is not None):
            raise HouseholdInvalid(f"{GROUP_TEXT[group]}の所得区分と被保険者が合いません")
    steps: list[Step] = []
    # What goes on to the household step: the under-70 members' costs as they are …
    medical = sum(line.medical for line in lines if line.group == UNDER70)
    care = sum(line.care for line in lines if line.group == UNDER70)
    excess_70_74 = 0
    if ELDERLY in groups:
        assert household.category_70 is not None
        elderly = _step(
            ELDERLY,
            rules.band(ELDERLY, household.category_70),
            sum(line.medical for line in lines if line.group == ELDERLY),
            sum(line.care for line in lines if line.group == ELDERLY),
        )
        steps.append(elderly)
        excess_70_74 = elderly.excess
        # … and the 70–74 members' costs less the part already over their limit.
        medical += elderly.medical - elderly.medical_share
        care += elderly.care - elderly.care_share
    if UNDER70 in groups:
        assert household.category is not None
        steps.append(_step("household", rules.band(UNDER70, household.category), medical, care))
    excess = sum(step.excess for step in steps)
    paid = excess > rules.minimum_payment
    return GassanOutcome(
        household=household,
        rules=rules,
        members=lines,
        steps=tuple(steps),
        excess_70_74=excess_70_74,
        excess=excess,
        paid=paid,
        medical_share=sum(s.medical_share for s in steps) if paid else 0,
        care_share=sum(s.care_share for s in steps) if paid else 0,
    )

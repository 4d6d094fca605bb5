"""デモ市 — a fictitious みかん市 (愛媛県) generated from a seed and bulk-loaded.

Two halves:

* :func:`city_generate` is pure Python and deterministic: the same ``(households, seed, on)``
  always gives the same :class:`CityData` (only ``random.Random(seed)`` is used, nothing is
  read from the clock). It builds households first (composition, ages, relations) and derives
  residency, other coverage (他制度加入) and income from them, so the pieces agree with each
  other: children are 20–45 years younger than their parents, dependants are insured through
  a worker of the same household, pensioners have pension income, and so on.
* :func:`city_load` writes the data with multi-row bulk statements (executemany on SQLite,
  COPY on PostgreSQL) with ids allocated up front, so that foreign keys (世帯→世帯主,
  履歴→住民, …) are known without reading anything back. One audit event records the load.

Nothing here is real: names come from Faker's common-name lists (kanji paired with kana),
town names and postal codes are invented, and no My Number is generated at all.
"""

import bisect
import gc
import json
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from math import exp
from time import perf_counter
from typing import Any, NamedTuple

import jaconv
from django.core.management.color import no_style
from django.db import DatabaseError, connections, models, router, transaction
from django.utils import timezone
from faker.providers.person.ja_JP import Provider as _JaPersonProvider
from tqdm import tqdm

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.bulkwrite import PostgresRowWriter, RowWriter, SqliteRowWriter, tables_analyze
from kokuho.core.kana import kana_search_key, normalize_kana_name
from kokuho.people.income import first_use_of
from kokuho.people.models import (
    ChangeCode,
    CoverageKind,
    Household,
    HouseholdHistory,
    Income,
    OtherCoverage,
    Person,
    PersonHistory,
    Relation,
    Sex,
)

__all__ = [
    "CityData",
    "CoverageRow",
    "HouseholdRow",
    "HouseholdType",
    "IncomeRow",
    "LoadStats",
    "PersonRow",
    "city_exists",
    "city_generate",
    "city_load",
]

PREFECTURE = "愛媛県"
MUNICIPALITY = "みかん市"
IDEOGRAPHIC_SPACE = "\u3000"


class HouseholdType(StrEnum):
    """世帯類型 — the census-style composition of a household.

    The generator labels each household with the type it meant to build; the report derives
    the type again from the members' 続柄, so the two must agree (a test checks that).
    """

    SINGLE = "単身"
    COUPLE = "夫婦のみ"
    COUPLE_WITH_CHILDREN = "夫婦と子"
    SINGLE_PARENT = "ひとり親と子"
    THREE_GENERATION = "三世代"
    OTHER = "その他"


# --- Output rows -------------------------------------------------------------------------


class HouseholdRow(NamedTuple):
    """世帯. ``head`` is the index of the 世帯主 in :attr:`CityData.people`."""

    household_no: str
    formed_on: date
    head: int
    kind: HouseholdType


class PersonRow(NamedTuple):
    """住民. ``household`` is an index into :attr:`CityData.households`."""

    atena_no: str
    name: str
    name_kana: str
    birth_date: date
    sex: int
    postal_code: str
    address: str
    household: int
    relation: str
    resident_from: date
    is_foreign: bool
    residence_status: str
    residence_until: date | None


class CoverageRow(NamedTuple):
    """他制度加入状況 of the person at index ``person``; ``end`` None = still covered."""

    person: int
    kind: str
    start: date
    end: date | None


class IncomeRow(NamedTuple):
    """所得 of the person at index ``person`` for ``income_year`` (所得年)."""

    person: int
    income_year: int
    total_income: int
    taxable: int
    tax_exempt: bool
    revenue: int
    pension_revenue: int
    pension_income: int
    unreported: bool


@dataclass(frozen=True)
class CityData:
    """Everything :func:`city_generate` made, in insertion order (households, then members
    in household order; coverages and incomes sorted by person index)."""

    seed: int
    on: date
    households: list[HouseholdRow]
    people: list[PersonRow]
    coverages: list[CoverageRow]
    incomes: list[IncomeRow]


# --- Names ---------------------------------------------------------------------------------

NamePair = tuple[str, str]  # (表記, カナ)


def _name_pairs(raw: Iterable[Sequence[str]]) -> tuple[NamePair, ...]:
    # Faker's ja_JP pairs are (kanji, katakana, romaji); hira2kata guards against a future
    # list in hiragana, normalize_kana_name gives the stored form.
    return tuple((row[0], normalize_kana_name(jaconv.hira2kata(row[1]))) for row in raw)


# Read once: sampling from these lists with our own Random is ~100x faster than Faker calls
# and keeps the city reproducible independent of Faker's own seeding.
LAST_NAME_PAIRS: tuple[NamePair, ...] = _name_pairs(_JaPersonProvider.last_name_pairs.keys())
_LAST_NAME_CUM: list[float] = []
for _weight in _JaPersonProvider.last_name_pairs.values():
    _LAST_NAME_CUM.append((_LAST_NAME_CUM[-1] if _LAST_NAME_CUM else 0.0) + float(_weight))
MALE_GIVEN_NAME_PAIRS = _name_pairs(_JaPersonProvider.first_name_male_pairs)
FEMALE_GIVEN_NAME_PAIRS = _name_pairs(_JaPersonProvider.first_name_female_pairs)


@dataclass(frozen=True)
class ForeignNames:
    """Common family and given names of one country of origin, with their カナ."""

    country: str
    weight: float
    surnames: tuple[NamePair, ...]
    male: tuple[NamePair, ...]
    female: tuple[NamePair, ...]


# Foreign residents are registered under their alphabetic (or, for Chinese, kanji) name with
# a katakana reading. Only very common names; the weights follow Ehime's mix (Vietnam first).
FOREIGN_NAMES: tuple[ForeignNames, ...] = (
    ForeignNames(
        "ベトナム",
        40,
        (("NGUYEN", "グエン"), ("TRAN", "チャン"), ("LE", "レ"), ("PHAM", "ファム"),
         ("HOANG", "ホアン"), ("VU", "ヴー"), ("DANG", "ダン"), ("BUI", "ブイ")),
        (("NAM", "ナム"), ("HUNG", "フン"), ("TUAN", "トゥアン"), ("MINH", "ミン"),
         ("DUC", "ドゥック"), ("QUANG", "クアン")),
        (("LAN", "ラン"), ("MAI", "マイ"), ("LINH", "リン"), ("THAO", "タオ"), ("HOA", "ホア"),
         ("TRANG", "チャン")),
    ),
    ForeignNames(
        "中国",
        20,
        (("王", "ワン"), ("李", "リ"), ("張", "チャン"), ("劉", "リュウ"), ("陳", "チェン"),
         ("楊", "ヤン")),
        (("偉", "ウェイ"), ("強", "チャン"), ("磊", "レイ"), ("軍", "ジュン")),
        (("芳", "ファン"), ("静", "ジン"), ("麗", "リー"), ("敏", "ミン")),
    ),
    ForeignNames(
        "フィリピン",
        15,
        (("SANTOS", "サントス"), ("REYES", "レイエス"), ("CRUZ", "クルス"),
         ("GARCIA", "ガルシア"), ("BAUTISTA", "バウティスタ")),
        (("JOSE", "ホセ"), ("MARK", "マーク"), ("JOHN", "ジョン")),
        (("MARIA", "マリア"), ("ANNA", "アンナ"), ("GRACE", "グレース")),
    ),
    ForeignNames(
        "インドネシア",
        15,
        (("SAPUTRA", "サプトラ"), ("WIJAYA", "ウィジャヤ"), ("HIDAYAT", "ヒダヤット")),
        (("AGUS", "アグス"), ("BUDI", "ブディ"), ("RIZKY", "リズキ")),
        (("DEWI", "デウィ"), ("SITI", "シティ"), ("PUTRI", "プトリ")),
    ),
    ForeignNames(
        "ネパール",
        10,
        (("GURUNG", "グルン"), ("THAPA", "タパ"), ("RAI", "ライ"), ("SHRESTHA", "シュレスタ")),
        (("RAM", "ラム"), ("BIKASH", "ビカス")),
        (("SITA", "シタ"), ("ANJALI", "アンジャリ")),
    ),
)  # fmt: skip

# --- Places ----------------------------------------------------------------------------------

# (町名, 郵便番号, 丁目の数, 人口の重み). Invented; 799-99xx is not a delivery area in use.
TOWNS: tuple[tuple[str, str, int, int], ...] = (
    ("本町", "799-9901", 5, 14),
    ("栄町", "799-9902", 4, 10),
    ("港町", "799-9903", 3, 7),
    ("城北町", "799-9904", 4, 9),
    ("桜ケ丘", "799-9905", 6, 12),
    ("日向台", "799-9906", 3, 6),
    ("柑橘町", "799-9907", 5, 10),
    ("潮見町", "799-9908", 3, 6),
    ("松風町", "799-9909", 4, 8),
    ("青葉台", "799-9910", 5, 9),
    ("川原町", "799-9911", 2, 4),
    ("新浜町", "799-9912", 3, 5),
)
BUILDINGS: tuple[str, ...] = (
    "コーポみかん",
    "ハイツ柑橘",
    "メゾン潮見",
    "みかん荘",
    "グランみかん",
)

# --- Demography ------------------------------------------------------------------------------

DAYS_PER_YEAR = 365.2425
# Children are born at least 20 full years after and at most 45 years after each parent; the
# two days of margin keep that true under calendar-year arithmetic (leap days).
GAP_MIN_DAYS = 7307  # 20 years + 2 days
GAP_MAX_DAYS = 16434  # 45 years - 2 days
ADULT_DAYS = 6576  # 18 years + 1 day: the youngest 世帯主
AGE_16_DAYS = int(16 * DAYS_PER_YEAR)  # 扶養控除 counts dependants from 16
AGE_20_DAYS = int(20 * DAYS_PER_YEAR)
AGE_65_DAYS = int(65 * DAYS_PER_YEAR)

# 世帯類型 shares, tuned so the city looks like a regional Japanese city in the 2020 census
# (単独 ~38 %, about a third of residents 65+, ~11 % under 15).
HOUSEHOLD_TYPE_WEIGHTS: tuple[tuple[HouseholdType, float], ...] = (
    (HouseholdType.SINGLE, 37.0),
    (HouseholdType.COUPLE, 22.5),
    (HouseholdType.COUPLE_WITH_CHILDREN, 22.0),
    (HouseholdType.SINGLE_PARENT, 9.0),
    (HouseholdType.THREE_GENERATION, 4.5),
    (HouseholdType.OTHER, 5.0),
)
FOREIGN_HOUSEHOLD_SHARE = 0.035

# In the tables below (weight, from, to) are piecewise-uniform age ranges in years.
Parts = Sequence[tuple[float, float, float]]
SINGLE_AGE: Parts = (
    (12, 18.1, 25), (10, 25, 35), (11, 35, 50), (16, 50, 65),
    (20, 65, 75), (19, 75, 85), (12, 85, 99),
)  # fmt: skip
COUPLE_HEAD_AGE: Parts = (
    (7, 22, 35), (8, 35, 55), (17, 55, 65), (36, 65, 75), (26, 75, 85), (6, 85, 97),
)  # fmt: skip
MOTHER_AGE: Parts = ((18, 23, 35), (30, 35, 45), (26, 45, 55), (16, 55, 65), (10, 65, 80))
SINGLE_PARENT_AGE: Parts = ((25, 23, 40), (35, 40, 55), (20, 55, 70), (20, 70, 88))
CHILD_WITH_PARENT_HEAD_AGE: Parts = ((20, 30, 45), (50, 45, 60), (30, 60, 72))
THREE_GEN_HEAD_AGE: Parts = ((30, 35, 45), (45, 45, 55), (25, 55, 62))
GRANDPARENT_HEAD_AGE: Parts = ((40, 60, 70), (45, 70, 80), (15, 80, 86))
CHILDREN_COUNT: Sequence[tuple[float, int]] = ((40, 1), (42, 2), (15, 3), (3, 4))

# 在留資格 of foreign residents living alone: (status, weight, age from, age to, male share,
# days of residence so far at most).
FOREIGN_SINGLE_STATUS: tuple[tuple[str, float, float, float, float, int], ...] = (
    ("技能実習", 35, 19, 33, 0.55, 1000),
    ("特定技能", 20, 21, 38, 0.6, 1800),
    ("留学", 20, 19, 30, 0.55, 1000),
    ("技術・人文知識・国際業務", 12, 23, 40, 0.6, 2500),
    ("永住者", 13, 30, 70, 0.4, 9000),
    ("特定活動", 2, 20, 40, 0.5, 80),
)
WORKING_STATUSES = frozenset({"技能実習", "特定技能", "技術・人文知識・国際業務"})
# A period of stay of three months (here: 特定活動) excludes from NHI (国保法施行規則1条1号,
# parameter eligibility.short_stay_months); the demo records it as a SHORT_STAY coverage.
SHORT_STAY_STATUS = "特定活動"
SHORT_STAY_DAYS = 90

# Occupation (生業) drives other coverage and income. EMP = 被用者保険の適用される勤め人,
# SELF = 自営業, PART = 適用外のパート・アルバイト, NONE = 無職・家事, PENSION = 年金生活.
CHILD, STUDENT, EMP, SELF, PART, NONE, PENSION = range(7)
OCCUPATION_BY_AGE: dict[tuple[int, int], Sequence[tuple[float, int]]] = {
    # (sex, age class) -> weights; age classes: 0 = 18-22, 1 = 23-59, 2 = 60-64, 3 = 65-69,
    # 4 = 70-74, 5 = 75+
    (1, 0): ((50, STUDENT), (40, EMP), (7, PART), (3, NONE)),
    (2, 0): ((52, STUDENT), (37, EMP), (8, PART), (3, NONE)),
    (1, 1): ((82, EMP), (8, SELF), (5, PART), (5, NONE)),
    (2, 1): ((65, EMP), (4, SELF), (19, PART), (12, NONE)),
    (1, 2): ((64, EMP), (10, SELF), (11, PART), (15, NONE)),
    (2, 2): ((40, EMP), (5, SELF), (25, PART), (30, NONE)),
    (1, 3): ((32, EMP), (12, SELF), (14, PART), (42, PENSION)),
    (2, 3): ((18, EMP), (6, SELF), (14, PART), (62, PENSION)),
    (1, 4): ((12, EMP), (12, SELF), (12, PART), (64, PENSION)),
    (2, 4): ((6, EMP), (5, SELF), (10, PART), (79, PENSION)),
    (1, 5): ((4, SELF), (96, PENSION)),
    (2, 5): ((3, SELF), (97, PENSION)),
}

_R = Relation
HEAD, WIFE, HUSBAND, CHILD_REL = _R.HEAD.value, _R.WIFE.value, _R.HUSBAND.value, _R.CHILD.value
FATHER, MOTHER, GRANDCHILD = _R.FATHER.value, _R.MOTHER.value, _R.GRANDCHILD.value
GRANDFATHER, GRANDMOTHER, LODGER = _R.GRANDFATHER.value, _R.GRANDMOTHER.value, _R.LODGER.value
OLDER_BROTHER, OLDER_SISTER = _R.ELDER_BROTHER.value, _R.ELDER_SISTER.value
YOUNGER_BROTHER, YOUNGER_SISTER = _R.YOUNGER_BROTHER.value, _R.YOUNGER_SISTER.value
MALE, FEMALE = int(Sex.MALE), int(Sex.FEMALE)
EMPLOYEE_INSURANCE = CoverageKind.EMPLOYEE_INSURANCE.value
UNION = CoverageKind.UNION.value
WELFARE = CoverageKind.WELFARE.value
LATE_ELDERLY_DISABILITY = CoverageKind.LATE_ELDERLY_DISABILITY.value
SHORT_STAY = CoverageKind.SHORT_STAY.value
_SPOUSE_OF_HEAD = {MALE: WIFE, FEMALE: HUSBAND}


class _Sampler:
    """Draws from a discrete weighted table with one random() and a bisect."""

    __slots__ = ("_cum", "_values")

    def __init__(self, table: Sequence[tuple[float, Any]]) -> None:
        total = float(sum(w for w, _ in table))
        acc = 0.0
        self._cum: list[float] = []
        for w, _ in table:
            acc += w / total
            self._cum.append(acc)
        self._cum[-1] = 1.0  # guards against rounding leaving u beyond the last bucket
        self._values = [v for _, v in table]

    def __call__(self, u: float) -> Any:
        return self._values[bisect.bisect_right(self._cum, u)]


class _AgeSampler:
    """Piecewise-uniform ages in years (float)."""

    __slots__ = ("_pick",)

    def __init__(self, parts: Parts) -> None:
        self._pick = _Sampler([(w, (lo, hi - lo)) for w, lo, hi in parts])

    def __call__(self, rnd: Callable[[], float]) -> float:
        lo, width = self._pick(rnd())
        return lo + rnd() * width


class _Member:
    """One household member while the household is being built."""

    __slots__ = (
        "birth",
        "cover",
        "given",
        "occupation",
        "relation",
        "resident_from",
        "sex",
        "status",
        "surname",
        "until",
    )

    def __init__(self, relation: str, sex: int, birth: int, surname: NamePair, given: NamePair):
        self.relation = relation
        self.sex = sex
        self.birth = birth  # proleptic ordinal, as date.toordinal()
        self.surname = surname
        self.given = given
        self.status = ""  # 在留資格 ("" = Japanese national)
        self.resident_from = 0
        self.occupation = NONE
        self.cover = ""  # kind of the coverage open on `on`, "" = none (NHI if < 75)
        self.until = 0  # 在留期間の満了日 (ordinal), 0 = none


# --- Income arithmetic (所得税法・地方税法, simplified to the main brackets) ------------------


def salary_income(revenue: int) -> int:
    """給与所得 = 給与収入 − 給与所得控除 (brackets in force since 2020)."""
    if revenue <= 1_625_000:
        deduction = 550_000
    elif revenue <= 1_800_000:
        deduction = revenue * 4 // 10 - 100_000
    elif revenue <= 3_600_000:
        deduction = revenue * 3 // 10 + 80_000
    elif revenue <= 6_600_000:
        deduction = revenue * 2 // 10 + 440_000
    elif revenue <= 8_500_000:
        deduction = revenue // 10 + 1_100_000
    else:
        deduction = 1_950_000
    return max(0, revenue - deduction)


def pension_income(revenue: int, *, aged_65: bool) -> int:
    """公的年金等に係る雑所得 = 収入 − 公的年金等控除 (other income ≤ 10 million)."""
    if revenue <= (3_300_000 if aged_65 else 1_300_000):
        deduction = 1_100_000 if aged_65 else 600_000
    elif revenue <= 4_100_000:
        deduction = revenue // 4 + 275_000
    elif revenue <= 7_700_000:
        deduction = revenue * 15 // 100 + 685_000
    elif revenue <= 10_000_000:
        deduction = revenue * 5 // 100 + 1_455_000
    else:
        deduction = 1_955_000
    return max(0, revenue - deduction)


def _thousands(value: float) -> int:
    # Incomes are reported in whole yen; revenues in the tax data are round thousands.
    return int(value) // 1000 * 1000


# --- The generator ---------------------------------------------------------------------------


class _CityBuilder:
    def __init__(self, *, seed: int, on: date) -> None:
        # Demo data, not secrets: a seeded, reproducible generator is the point.
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.gauss = self.rng.gauss
        self.on = on
        self.on_ord = on.toordinal()
        self.income_years = (on.year - 2, on.year - 1)
        # Numbers start somewhere seed-dependent so that two demo cities do not look alike.
        self.next_atena = self.rng.randrange(1_000_000_000, 8_000_000_000)
        self.next_household = self.rng.randrange(1_000_000_000, 8_000_000_000)
        self.households: list[HouseholdRow] = []
        self.people: list[PersonRow] = []
        self.coverages: list[CoverageRow] = []
        self.incomes: list[IncomeRow] = []
        self._names: dict[tuple[NamePair, NamePair], tuple[str, str]] = {}
        self._dates: dict[int, date] = {}
        self._type = _Sampler([(w, t) for t, w in HOUSEHOLD_TYPE_WEIGHTS])
        self._children = _Sampler(CHILDREN_COUNT)
        self._town = _Sampler([(w, t) for *t, w in TOWNS])
        self._occupation = {key: _Sampler(table) for key, table in OCCUPATION_BY_AGE.items()}
        self._foreign = _Sampler([(f.weight, f) for f in FOREIGN_NAMES])
        self._foreign_single = _Sampler([(s[1], s) for s in FOREIGN_SINGLE_STATUS])
        self._single_age = _AgeSampler(SINGLE_AGE)
        self._couple_age = _AgeSampler(COUPLE_HEAD_AGE)
        self._mother_age = _AgeSampler(MOTHER_AGE)
        self._single_parent_age = _AgeSampler(SINGLE_PARENT_AGE)
        self._child_head_age = _AgeSampler(CHILD_WITH_PARENT_HEAD_AGE)
        self._three_gen_age = _AgeSampler(THREE_GEN_HEAD_AGE)
        self._grandparent_age = _AgeSampler(GRANDPARENT_HEAD_AGE)
        self._builders = {
            HouseholdType.SINGLE: self._single,
            HouseholdType.COUPLE: self._couple,
            HouseholdType.COUPLE_WITH_CHILDREN: self._couple_with_children,
            HouseholdType.SINGLE_PARENT: self._single_parent,
            HouseholdType.THREE_GENERATION: self._three_generation,
            HouseholdType.OTHER: self._other,
        }

    # -- small helpers --

    def _date(self, ordinal: int) -> date:
        # Cached: a million residents share a few tens of thousands of distinct dates.
        d = self._dates.get(ordinal)
        if d is None:
            d = self._dates[ordinal] = date.fromordinal(ordinal)
        return d

    def _birth(self, age_years: float) -> int:
        return self.on_ord - int(age_years * DAYS_PER_YEAR)

    def _between(self, lo: int, hi: int) -> int:
        """A uniform day in [lo, hi] (hi < lo collapses to lo)."""
        return lo + int(self.rnd() * (hi - lo + 1)) if hi > lo else lo

    def _surname(self) -> NamePair:
        u = self.rnd() * _LAST_NAME_CUM[-1]
        return LAST_NAME_PAIRS[bisect.bisect_right(_LAST_NAME_CUM, u)]

    def _given(self, sex: int, names: ForeignNames | None = None) -> NamePair:
        if names is None:
            pool = MALE_GIVEN_NAME_PAIRS if sex == MALE else FEMALE_GIVEN_NAME_PAIRS
        else:
            pool = names.male if sex == MALE else names.female
        return pool[int(self.rnd() * len(pool))]

    def _member(
        self, relation: str, sex: int, birth: int, surname: NamePair, names: ForeignNames | None
    ) -> _Member:
        return _Member(relation, sex, birth, surname, self._given(sex, names))

    def _sex(self, male_share: float) -> int:
        return MALE if self.rnd() < male_share else FEMALE

    def _spouse_birth(self, head_birth: int, head_sex: int) -> int:
        # Husbands are on average ~2 years older than wives; clamp the tails.
        diff = min(12.0, max(-6.0, self.gauss(2.2, 3.2)))
        if head_sex == FEMALE:
            diff = -diff
        birth = head_birth + int(diff * DAYS_PER_YEAR)
        return min(birth, self.on_ord - ADULT_DAYS)

    def _children_of(
        self, parents: Sequence[int], count: int, *, min_age_days: int = 0
    ) -> list[int]:
        """Birth ordinals of up to ``count`` children of parents born on ``parents``.

        Each child is born 20–45 years after every parent (so the older parent bounds the
        latest birth, the younger one the earliest) and no later than ``on`` − min_age_days.
        """
        earliest = max(parents) + GAP_MIN_DAYS
        latest = min(min(parents) + GAP_MAX_DAYS, self.on_ord - min_age_days)
        if earliest > latest:
            return []
        # First births cluster around the parent's early thirties.
        first = max(parents) + int(max(20.01, self.gauss(29.5, 4.5)) * DAYS_PER_YEAR)
        if not earliest <= first <= latest:
            first = self._between(earliest, latest)
        births = [first]
        while len(births) < count:
            nxt = births[-1] + int((1.2 + self.rnd() * 3.3) * DAYS_PER_YEAR)
            if nxt > latest:
                break
            births.append(nxt)
        return births  # eldest first, as the registry lists them

    def _parent_of(self, child_birth: int, *, oldest_age: float = 99.0) -> int | None:
        """Birth ordinal of a parent of someone born on ``child_birth``, alive and ≤ 99."""
        earliest = max(child_birth - GAP_MAX_DAYS, self._birth(oldest_age))
        latest = child_birth - GAP_MIN_DAYS
        if earliest > latest:
            return None
        preferred = child_birth - int(max(20.01, self.gauss(29.0, 4.5)) * DAYS_PER_YEAR)
        return preferred if earliest <= preferred <= latest else self._between(earliest, latest)

    # -- household compositions (each returns members, head first) --

    def _single(self) -> tuple[HouseholdType, list[_Member]]:
        age = self._single_age(self.rnd)
        # Young singles are more often men, old ones (widows) more often women.
        sex = self._sex(0.58 if age < 65 else 0.32)
        return HouseholdType.SINGLE, [
            self._member(HEAD, sex, self._birth(age), self._surname(), None)
        ]

    def _couple(self) -> tuple[HouseholdType, list[_Member]]:
        surname = self._surname()
        sex = self._sex(0.93)
        head_birth = self._birth(self._couple_age(self.rnd))
        head = self._member(HEAD, sex, head_birth, surname, None)
        spouse_sex = FEMALE if sex == MALE else MALE
        spouse = self._member(
            _SPOUSE_OF_HEAD[sex], spouse_sex, self._spouse_birth(head_birth, sex), surname, None
        )
        return HouseholdType.COUPLE, [head, spouse]

    def _couple_with_children(self) -> tuple[HouseholdType, list[_Member]]:
        surname = self._surname()
        if self.rnd() < 0.10:
            # An adult child registered as 世帯主 living with both parents: relations-wise
            # still a couple with their child.
            head_sex = self._sex(0.6)
            head_birth = self._birth(self._child_head_age(self.rnd))
            mother = self._parent_of(head_birth)
            if mother is not None:
                father = min(
                    mother - int(self.rnd() * 4 * DAYS_PER_YEAR), head_birth - GAP_MIN_DAYS
                )
                if father >= head_birth - GAP_MAX_DAYS and father >= self._birth(99.0):
                    return HouseholdType.COUPLE_WITH_CHILDREN, [
                        self._member(HEAD, head_sex, head_birth, surname, None),
                        self._member(FATHER, MALE, father, surname, None),
                        self._member(MOTHER, FEMALE, mother, surname, None),
                    ]
        while True:
            mother_birth = self._birth(self._mother_age(self.rnd))
            father_birth = self._spouse_birth(mother_birth, FEMALE)
            births = self._children_of((mother_birth, father_birth), self._children(self.rnd()))
            if births:
                break
        father_is_head = self.rnd() < 0.95
        head_sex = MALE if father_is_head else FEMALE
        head_birth, spouse_birth = (
            (father_birth, mother_birth) if father_is_head else (mother_birth, father_birth)
        )
        members = [
            self._member(HEAD, head_sex, head_birth, surname, None),
            self._member(_SPOUSE_OF_HEAD[head_sex], 3 - head_sex, spouse_birth, surname, None),
        ]
        members += [self._member(CHILD_REL, self._sex(0.51), b, surname, None) for b in births]
        return HouseholdType.COUPLE_WITH_CHILDREN, members

    def _single_parent(self) -> tuple[HouseholdType, list[_Member]]:
        surname = self._surname()
        if self.rnd() < 0.35:
            # A middle-aged 世帯主 caring for a widowed parent (most often the mother).
            head_birth = self._birth(self._child_head_age(self.rnd))
            parent = self._parent_of(head_birth)
            if parent is not None:
                parent_sex = self._sex(0.2)
                relation = FATHER if parent_sex == MALE else MOTHER
                return HouseholdType.SINGLE_PARENT, [
                    self._member(HEAD, self._sex(0.55), head_birth, surname, None),
                    self._member(relation, parent_sex, parent, surname, None),
                ]
        while True:
            parent_birth = self._birth(self._single_parent_age(self.rnd))
            births = self._children_of((parent_birth,), self._children(self.rnd()))
            if births:
                break
        members = [self._member(HEAD, self._sex(0.15), parent_birth, surname, None)]
        members += [self._member(CHILD_REL, self._sex(0.51), b, surname, None) for b in births]
        return HouseholdType.SINGLE_PARENT, members

    def _three_generation(self) -> tuple[HouseholdType, list[_Member]]:
        surname = self._surname()
        if self.rnd() < 0.7:
            # 世帯主 couple, their children and the 世帯主's parent(s).
            while True:
                head_birth = self._birth(self._three_gen_age(self.rnd))
                spouse_birth = self._spouse_birth(head_birth, MALE)
                mother = self._parent_of(head_birth)
                births = self._children_of((head_birth, spouse_birth), self._children(self.rnd()))
                if mother is not None and births:
                    break
            members = [
                self._member(HEAD, MALE, head_birth, surname, None),
                self._member(WIFE, FEMALE, spouse_birth, surname, None),
            ]
            members += [self._member(CHILD_REL, self._sex(0.51), b, surname, None) for b in births]
            u = self.rnd()
            if u < 0.85:
                members.append(self._member(MOTHER, FEMALE, mother, surname, None))
            if u >= 0.55:
                father = mother - int(self.rnd() * 4 * DAYS_PER_YEAR)
                if father >= max(head_birth - GAP_MAX_DAYS, self._birth(99.0)):
                    members.append(self._member(FATHER, MALE, father, surname, None))
                elif u >= 0.85:  # father-only was meant; fall back to the mother
                    members.append(self._member(MOTHER, FEMALE, mother, surname, None))
            return HouseholdType.THREE_GENERATION, members
        # Older 世帯主 (and spouse), one adult child and that child's children (孫).
        while True:
            head_sex = self._sex(0.8)
            head_birth = self._birth(self._grandparent_age(self.rnd))
            parents = [head_birth]
            if self.rnd() < 0.7:
                parents.append(self._spouse_birth(head_birth, head_sex))
            child = self._children_of(parents, 1, min_age_days=GAP_MIN_DAYS + 400)
            if not child:
                continue
            grandchildren = self._children_of(child, 1 + int(self.rnd() < 0.45))
            if grandchildren:
                break
        members = [self._member(HEAD, head_sex, head_birth, surname, None)]
        if len(parents) == 2:
            members.append(
                self._member(_SPOUSE_OF_HEAD[head_sex], 3 - head_sex, parents[1], surname, None)
            )
        members.append(self._member(CHILD_REL, self._sex(0.3), child[0], surname, None))
        members += [
            self._member(GRANDCHILD, self._sex(0.51), b, surname, None) for b in grandchildren
        ]
        return HouseholdType.THREE_GENERATION, members

    def _other(self) -> tuple[HouseholdType, list[_Member]]:
        surname = self._surname()
        u = self.rnd()
        if u < 0.35:
            # Unmarried siblings living together.
            head_sex = self._sex(0.5)
            head_birth = self._birth(45 + self.rnd() * 40)
            members = [self._member(HEAD, head_sex, head_birth, surname, None)]
            for _ in range(1 + int(self.rnd() < 0.25)):
                diff = int((1.5 + self.rnd() * 8.5) * DAYS_PER_YEAR)
                sex = self._sex(0.45)
                if self.rnd() < 0.5 and head_birth - diff >= self._birth(99.0):
                    relation = OLDER_BROTHER if sex == MALE else OLDER_SISTER
                    members.append(self._member(relation, sex, head_birth - diff, surname, None))
                else:
                    relation = YOUNGER_BROTHER if sex == MALE else YOUNGER_SISTER
                    birth = min(head_birth + diff, self.on_ord - ADULT_DAYS)
                    members.append(self._member(relation, sex, birth, surname, None))
            return HouseholdType.OTHER, members
        if u < 0.65:
            # A couple living with the 世帯主's widowed parent (no children at home).
            while True:
                head_birth = self._birth(45 + self.rnd() * 22)
                parent = self._parent_of(head_birth)
                if parent is not None:
                    break
            parent_sex = self._sex(0.3)
            relation = FATHER if parent_sex == MALE else MOTHER
            return HouseholdType.OTHER, [
                self._member(HEAD, MALE, head_birth, surname, None),
                self._member(WIFE, FEMALE, self._spouse_birth(head_birth, MALE), surname, None),
                self._member(relation, parent_sex, parent, surname, None),
            ]
        if u < 0.85:
            # Unrelated people sharing a home: the 同居人 keeps their own surname.
            head_birth = self._birth(25 + self.rnd() * 55)
            lodger_birth = self._birth(20 + self.rnd() * 60)
            return HouseholdType.OTHER, [
                self._member(HEAD, self._sex(0.5), head_birth, surname, None),
                self._member(LODGER, self._sex(0.5), lodger_birth, self._surname(), None),
            ]
        if u < 0.95:
            # Grandparent raising grandchildren (skipped generation).
            while True:
                head_birth = self._birth(self._grandparent_age(self.rnd))
                earliest = max(head_birth + 2 * GAP_MIN_DAYS, self._birth(25.0))
                if earliest <= self.on_ord:
                    break
            members = [self._member(HEAD, self._sex(0.3), head_birth, surname, None)]
            for _ in range(1 + int(self.rnd() < 0.35)):
                birth = self._between(earliest, min(head_birth + 2 * GAP_MAX_DAYS, self.on_ord))
                members.append(self._member(GRANDCHILD, self._sex(0.5), birth, surname, None))
            return HouseholdType.OTHER, members
        # A young 世帯主 living with a grandparent.
        while True:
            head_birth = self._birth(20 + self.rnd() * 25)
            latest = head_birth - 2 * GAP_MIN_DAYS
            earliest = max(head_birth - 2 * GAP_MAX_DAYS, self._birth(99.0))
            if earliest <= latest:
                break
        sex = self._sex(0.25)
        relation = GRANDFATHER if sex == MALE else GRANDMOTHER
        return HouseholdType.OTHER, [
            self._member(HEAD, self._sex(0.5), head_birth, surname, None),
            self._member(relation, sex, self._between(earliest, latest), surname, None),
        ]

    def _foreign_household(self) -> tuple[HouseholdType, list[_Member]]:
        names = self._foreign(self.rnd())
        surname = names.surnames[int(self.rnd() * len(names.surnames))]
        on_ord = self.on_ord
        if self.rnd() < 0.8:
            status, _, lo, hi, male_share, stay = self._foreign_single(self.rnd())
            birth = self._birth(lo + self.rnd() * (hi - lo))
            head = self._member(HEAD, self._sex(male_share), birth, surname, names)
            head.status = status
            if self.rnd() < 0.12 and status not in ("永住者", SHORT_STAY_STATUS):
                stay = 120  # a recent arrival, granted a first short period
            earliest = max(head.birth + ADULT_DAYS, on_ord - stay)
            head.resident_from = self._between(earliest, on_ord)
            return HouseholdType.SINGLE, [head]
        # A family: a resident with a long-term status, spouse and children.
        head_status = ("永住者", "定住者", "技術・人文知識・国際業務", "特定技能")[
            bisect.bisect_right((0.5, 0.65, 0.9), self.rnd())
        ]
        family_status = "家族滞在" if head_status in WORKING_STATUSES else "永住者の配偶者等"
        head_birth = self._birth(25 + self.rnd() * 30)
        head = self._member(HEAD, MALE, head_birth, surname, names)
        head.status = head_status
        spouse = self._member(WIFE, FEMALE, self._spouse_birth(head_birth, MALE), surname, names)
        spouse.status = family_status
        members = [head, spouse]
        n_children = int(self.rnd() * 3)
        births = self._children_of((head.birth, spouse.birth), n_children) if n_children else []
        for b in births:
            child = self._member(CHILD_REL, self._sex(0.5), b, surname, names)
            child.status = family_status
            members.append(child)
        stay_years = 15.0 if head_status in ("永住者", "定住者") else 6.0
        arrived = max(
            on_ord - int(self.rnd() * stay_years * DAYS_PER_YEAR),
            max(head.birth, spouse.birth) + ADULT_DAYS,
        )
        for m in members:
            m.resident_from = max(arrived, m.birth)
        kind = HouseholdType.COUPLE_WITH_CHILDREN if births else HouseholdType.COUPLE
        return kind, members

    # -- residency, coverage and income of a finished household --

    def _settle(self, members: list[_Member], foreign: bool) -> int:
        """Set resident_from (住民となった日) of everyone; return the 世帯設定日 ordinal."""
        on_ord = self.on_ord
        head = members[0]
        if foreign:
            return min(m.resident_from for m in members)
        if self.rnd() < 0.55:
            # Born here. The spouse (and any 同居人) usually came from elsewhere.
            formed = self._between(head.birth + ADULT_DAYS, min(on_ord, head.birth + 12_800))
            for m in members:
                if m.relation in (WIFE, HUSBAND) and self.rnd() < 0.6:
                    m.resident_from = min(on_ord, max(formed, m.birth + ADULT_DAYS))
                elif m.relation == LODGER:
                    m.resident_from = self._between(max(formed, m.birth + ADULT_DAYS), on_ord)
                else:
                    m.resident_from = m.birth
            return formed
        # Moved in together; most moves are recent, some decades ago.
        years_ago = (self.rnd() ** 2) * 40
        moved = max(on_ord - int(years_ago * DAYS_PER_YEAR), head.birth + ADULT_DAYS)
        moved = min(moved, on_ord)
        for m in members:
            m.resident_from = max(moved, m.birth)
        return moved

    def _occupations(self, members: list[_Member], welfare: bool) -> None:
        on_ord = self.on_ord
        occupation = self._occupation
        for m in members:
            age = (on_ord - m.birth) / DAYS_PER_YEAR
            if age < 15:
                m.occupation = CHILD
            elif age < 18:
                m.occupation = STUDENT
            elif m.status:
                if m.status in WORKING_STATUSES:
                    m.occupation = EMP
                elif m.status == "留学":
                    m.occupation = STUDENT
                elif m.status == SHORT_STAY_STATUS:
                    m.occupation = NONE
                elif m.status == "家族滞在":
                    m.occupation = PART if self.rnd() < 0.4 else NONE
                else:
                    m.occupation = occupation[(m.sex, _age_class(age))](self.rnd())
            else:
                m.occupation = occupation[(m.sex, _age_class(age))](self.rnd())
            if welfare and m.occupation in (EMP, SELF):
                # 被保護世帯: little or no work income (a part-time job at most).
                m.occupation = PART if self.rnd() < 0.2 else (PENSION if age >= 65 else NONE)

    def _cover(self, p0: int, members: list[_Member], welfare: bool, union: bool) -> None:
        """Append the CoverageRows of the household whose first member is person ``p0``."""
        on_ord, rnd, out = self.on_ord, self.rnd, self.coverages
        day = self._date
        if welfare:
            start = on_ord - int(rnd() * 10 * DAYS_PER_YEAR)
            for i, m in enumerate(members):
                m.cover = WELFARE
                out.append(CoverageRow(p0 + i, WELFARE, day(max(start, m.resident_from)), None))
            return
        limit_75 = self._birth(75.0)  # born on or before this: 75 or older
        if union:
            head = members[0]
            start = max(head.birth + ADULT_DAYS, on_ord - int(rnd() * 30 * DAYS_PER_YEAR))
            for i, m in enumerate(members):
                if m.birth <= limit_75 or m.relation == LODGER:
                    continue
                if m.occupation == EMP:  # a family member employed elsewhere
                    worked = min((on_ord - m.birth - ADULT_DAYS) / DAYS_PER_YEAR, 30.0)
                    m.cover = EMPLOYEE_INSURANCE
                    begun = on_ord - int(rnd() * worked * DAYS_PER_YEAR)
                    out.append(CoverageRow(p0 + i, EMPLOYEE_INSURANCE, day(begun), None))
                else:
                    m.cover = UNION
                    out.append(CoverageRow(p0 + i, UNION, day(max(start, m.birth)), None))
            return
        insured_start = 0
        rows: list[tuple[int, str, int, int | None]] = []
        for i, m in enumerate(members):
            if m.status == SHORT_STAY_STATUS:
                m.cover = SHORT_STAY
                rows.append((i, SHORT_STAY, m.resident_from, m.until))
            elif m.occupation == EMP:
                if m.status:
                    start = min(on_ord, m.resident_from + int(rnd() * 30))
                else:
                    worked = min((on_ord - m.birth - ADULT_DAYS) / DAYS_PER_YEAR, 30.0)
                    start = on_ord - int(rnd() * worked * DAYS_PER_YEAR)
                m.cover = EMPLOYEE_INSURANCE
                rows.append((i, EMPLOYEE_INSURANCE, start, None))
                if m.relation in (HEAD, WIFE, HUSBAND, CHILD_REL) and not insured_start:
                    insured_start = start
        if insured_start:
            # 被扶養者: family members without their own job-based insurance.
            for i, m in enumerate(members):
                if m.cover or m.birth <= limit_75 or m.relation == LODGER:
                    continue
                occ, rel = m.occupation, m.relation
                if rel in (WIFE, HUSBAND):
                    p = 1.0 if occ == NONE else 0.85 if occ == PART else 0.5 * (occ == PENSION)
                elif rel in (CHILD_REL, GRANDCHILD):
                    p = 1.0 if occ in (CHILD, STUDENT) else 0.7 if occ == NONE else 0.4
                elif rel in (FATHER, MOTHER):
                    p = 0.35 * (occ in (NONE, PENSION))
                else:
                    p = 0.3 * (occ == NONE)
                if p and rnd() < p:
                    m.cover = EMPLOYEE_INSURANCE
                    rows.append((i, EMPLOYEE_INSURANCE, max(insured_start, m.birth), None))
        limit_65 = self._birth(65.0)
        for i, m in enumerate(members):
            if m.cover or m.birth <= limit_75:
                continue
            age = (on_ord - m.birth) / DAYS_PER_YEAR
            if m.birth <= limit_65 and rnd() < 0.03:
                # 65–74 with a disability certificate may opt into 後期高齢者医療.
                start = max(m.birth + int(65 * DAYS_PER_YEAR), on_ord - int(rnd() * 3000))
                m.cover = LATE_ELDERLY_DISABILITY
                rows.append((i, LATE_ELDERLY_DISABILITY, start, None))
            elif m.status:
                continue
            elif age >= 60 and rnd() < 0.6:
                # Retired from a company: the employee insurance ended, now (likely) NHI.
                start = m.birth + int((18.5 + rnd() * 6) * DAYS_PER_YEAR)
                end = min(m.birth + int((60 + rnd() * 10) * DAYS_PER_YEAR), on_ord - 1)
                rows.append((i, EMPLOYEE_INSURANCE, start, max(start, end)))
            elif age >= 25 and m.occupation in (NONE, PART, SELF) and rnd() < 0.15:
                # Left a job in the last few years.
                end = on_ord - 1 - int(rnd() * 5 * DAYS_PER_YEAR)
                start = max(m.birth + ADULT_DAYS, end - int((1 + rnd() * 10) * DAYS_PER_YEAR))
                if start <= end:
                    rows.append((i, EMPLOYEE_INSURANCE, start, end))
        rows.sort(key=lambda r: r[0])
        for i, kind, start, end in rows:
            out.append(CoverageRow(p0 + i, kind, day(start), None if end is None else day(end)))

    def _income(self, p0: int, members: list[_Member], welfare: bool, single_parent: bool) -> None:
        """Append IncomeRows (two 所得年) for every member; figures in yen."""
        on_ord, rnd, gauss, out = self.on_ord, self.rnd, self.gauss, self.incomes
        years = self.income_years
        bases: list[tuple[int, int, int, float]] = []  # salary, pension, business, margin
        for m in members:
            age = (on_ord - m.birth) / DAYS_PER_YEAR
            occ = m.occupation
            salary = pension = business = 0
            margin = 0.0
            if occ == EMP:
                if m.status in WORKING_STATUSES:
                    median = 2_000_000 if m.status == "技能実習" else 2_700_000
                else:
                    median = _salary_median(age, m.sex)
                salary = _thousands(median * exp(gauss(0.0, 0.3)))
            elif occ == SELF:
                median = 5_500_000 if m.sex == MALE else 3_000_000
                business = _thousands(median * exp(gauss(0.0, 0.45)))
                margin = 0.25 + rnd() * 0.2
            elif occ == PART or (occ == STUDENT and age >= 18 and rnd() < 0.5):
                cap = 1_250_000 if m.cover == EMPLOYEE_INSURANCE else 1_900_000
                salary = _thousands(500_000 + rnd() * (cap - 500_000))
            if age >= 65:
                if welfare:
                    pension = _thousands(500_000 + rnd() * 300_000)
                elif m.status and m.status != "永住者":
                    pension = 0
                else:
                    median = 1_900_000 if m.sex == MALE else 900_000
                    pension = _thousands(median * exp(gauss(0.0, 0.3)))
            bases.append((salary, pension, business, margin))
        # The head supports the low-income family (同一生計配偶者・扶養親族): all of them raise
        # the 非課税 limit, those 16 and over also give a deduction (配偶者控除・扶養控除).
        family = deductible = 0
        for m, (salary, pension, business, margin) in zip(members[1:], bases[1:], strict=True):
            if m.relation == LODGER:
                continue
            income = salary_income(salary) + pension_income(pension, aged_65=True)
            if income + int(business * margin) <= 480_000:
                family += 1
                deductible += on_ord - m.birth >= AGE_16_DAYS
        for i, (m, (salary, pension, business, margin)) in enumerate(
            zip(members, bases, strict=True)
        ):
            person = p0 + i
            aged_65 = on_ord - m.birth >= AGE_65_DAYS
            # Only someone born in the last two years can have been unborn in an income year.
            birth_year = date.fromordinal(m.birth).year if on_ord - m.birth < 800 else 0
            unreported = (
                m.occupation in (NONE, SELF)
                and not welfare
                and m.cover == ""
                and AGE_20_DAYS <= on_ord - m.birth < AGE_65_DAYS
                and rnd() < 0.04
            )
            n_family, n_deductible = (family, deductible) if i == 0 else (0, 0)
            for year_index, year in enumerate(years):
                if year < birth_year:
                    continue  # not born yet in that income year
                if unreported:
                    out.append(IncomeRow(person, year, 0, 0, False, 0, 0, 0, True))
                    continue
                if not (salary or pension or business):
                    out.append(IncomeRow(person, year, 0, 0, True, 0, 0, 0, False))
                    continue
                # Year-on-year drift: wages rise a little, business income swings.
                s = _thousands(salary * (0.97 + 0.03 * year_index + rnd() * 0.02))
                b = _thousands(business * (0.85 + rnd() * 0.3))
                p = pension
                s_inc = salary_income(s)
                p_inc = pension_income(p, aged_65=aged_65)
                b_inc = int(b * margin)
                total = s_inc + p_inc + b_inc
                social = s * 15 // 100 if m.occupation == EMP else total // 10
                deductions = 430_000 + social + 330_000 * n_deductible
                # 均等割の非課税限度額 (1級地), and the 1.35 million rule for minors and
                # single parents.
                limit = 450_000 if not n_family else 350_000 * (1 + n_family) + 310_000
                exempt = (
                    welfare
                    or total <= limit
                    or (
                        ((single_parent and i == 0) or on_ord - m.birth < AGE_20_DAYS)
                        and total <= 1_350_000
                    )
                )
                taxable = 0 if exempt else _thousands(max(0, total - deductions))
                out.append(
                    IncomeRow(person, year, total, taxable, exempt, s + p + b, p, p_inc, False)
                )

    def build_household(self) -> None:
        rnd = self.rnd
        foreign = rnd() < FOREIGN_HOUSEHOLD_SHARE
        if foreign:
            kind, members = self._foreign_household()
        else:
            kind, members = self._builders[self._type(rnd())]()
        formed = self._settle(members, foreign)
        on_ord = self.on_ord
        for m in members:
            if m.status == SHORT_STAY_STATUS:
                m.until = m.resident_from + SHORT_STAY_DAYS
            elif m.status and m.status != "永住者":
                # 在留期間: short for recent arrivals, otherwise up to three more years.
                horizon = 150 if on_ord - m.resident_from <= 120 else 3 * 365
                m.until = on_ord + 30 + int(rnd() * horizon)
        head = members[0]
        head_age = (on_ord - head.birth) / DAYS_PER_YEAR
        # 生活保護: ~1.5 % of households, concentrated in the elderly alone and single parents
        # (foreign residents only with a settled status: 永住者・定住者 and their families).
        if foreign and head.status not in ("永住者", "定住者"):
            p_welfare = 0.0
        elif kind == HouseholdType.SINGLE:
            p_welfare = 0.045 if head_age >= 65 else 0.02
        elif kind == HouseholdType.SINGLE_PARENT and members[1].relation == CHILD_REL:
            p_welfare = 0.05
        else:
            p_welfare = 0.004
        welfare = rnd() < p_welfare
        self._occupations(members, welfare)
        # 国保組合 (doctors, builders, barbers…): the self-employed head insures the family.
        union = not (welfare or foreign) and head.occupation == SELF and head_age < 75
        union = union and rnd() < 0.2
        p0 = len(self.people)
        h_index = len(self.households)
        self._cover(p0, members, welfare, union)
        self._income(
            p0,
            members,
            welfare,
            kind == HouseholdType.SINGLE_PARENT and members[1].relation == CHILD_REL,
        )

        town, postal, chome = self._town(rnd())
        address = (
            f"{PREFECTURE}{MUNICIPALITY}{town}{1 + int(rnd() * chome)}丁目"
            f"{1 + int(rnd() * 30)}番{1 + int(rnd() * 25)}号"
        )
        if len(members) <= 2 and rnd() < 0.35:
            building = BUILDINGS[int(rnd() * len(BUILDINGS))]
            address += f" {building}{1 + int(rnd() * 3)}0{1 + int(rnd() * 8)}号室"
        self.households.append(
            HouseholdRow(f"{self.next_household:010d}", self._date(formed), p0, kind)
        )
        self.next_household += 1
        day, names, people = self._date, self._names, self.people
        for m in members:
            key = (m.surname, m.given)
            name = names.get(key)
            if name is None:
                name = names[key] = (
                    m.surname[0] + IDEOGRAPHIC_SPACE + m.given[0],
                    m.surname[1] + IDEOGRAPHIC_SPACE + m.given[1],
                )
            people.append(
                PersonRow(
                    f"{self.next_atena:010d}",
                    name[0],
                    name[1],
                    day(m.birth),
                    m.sex,
                    postal,
                    address,
                    h_index,
                    m.relation,
                    day(m.resident_from),
                    bool(m.status),
                    m.status,
                    day(m.until) if m.until else None,
                )
            )
            self.next_atena += 1


def _age_class(age: float) -> int:
    if age < 23:
        return 0
    if age < 60:
        return 1
    if age < 65:
        return 2
    if age < 70:
        return 3
    if age < 75:
        return 4
    return 5


def _salary_median(age: float, sex: int) -> int:
    """Median annual wage of a regular employee in a regional city (賃金構造基本統計調査-ish)."""
    if sex == MALE:
        if age < 25:
            return 2_600_000
        if age < 60:
            return int(2_900_000 + min(age - 25, 27) * 95_000)
        return 3_300_000 if age < 65 else 2_400_000
    if age < 25:
        return 2_400_000
    if age < 60:
        return int(2_600_000 + min(age - 25, 20) * 35_000)
    return 2_200_000 if age < 65 else 1_800_000


def city_generate(*, households: int, seed: int, on: date, progress: bool = False) -> CityData:
    """Build a demo city of ``households`` 世帯 as of ``on`` (基準日), deterministically."""
    if households < 1:
        raise ValueError("households must be at least 1")
    builder = _CityBuilder(seed=seed, on=on)
    with (
        _gc_paused(),
        tqdm(
            total=households,
            desc="デモ市の生成",
            unit="世帯",
            file=sys.stderr,
            disable=not progress,
        ) as bar,
    ):
        step = 5000
        for done in range(0, households, step):
            for _ in range(min(step, households - done)):
                builder.build_household()
            bar.update(min(step, households - done))
    return CityData(
        seed=seed,
        on=on,
        households=builder.households,
        people=builder.people,
        coverages=builder.coverages,
        incomes=builder.incomes,
    )


# --- Loading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadStats:
    """What :func:`city_load` wrote (all zero and ``skipped`` when a city already existed)."""

    households: int
    residents: int
    person_histories: int
    household_histories: int
    coverages: int
    incomes: int
    seconds: float
    skipped: bool = False

    def __str__(self) -> str:
        if self.skipped:
            return "既に生成済みのため読み込みを省略しました"
        return (
            f"世帯 {self.households:,}・住民 {self.residents:,}・履歴 "
            f"{self.person_histories + self.household_histories:,}・他制度加入 "
            f"{self.coverages:,}・所得 {self.incomes:,} 件（{self.seconds:.1f} 秒）"
        )


def city_exists() -> bool:
    """True once any resident is loaded: the demo city is generated only into an empty town."""
    return Person.objects.exists()


# Columns in the order the rows below are built; model field names, mapped to db columns.
_COLUMNS: dict[type[models.Model], tuple[str, ...]] = {
    Household: ("id", "household_no", "head", "formed_on", "dissolved_on"),
    Person: (
        "id", "atena_no", "name", "name_kana", "kana_key", "birth_date", "sex", "postal_code",
        "address", "household", "relation", "resident_from", "resident_until", "is_foreign",
        "residence_status", "residence_until",
    ),
    PersonHistory: (
        "id", "person", "change_code", "change_date", "reported_on", "recorded_at", "source",
        "snapshot",
    ),
    HouseholdHistory: (
        "id", "household", "change_code", "change_date", "recorded_at", "source", "snapshot",
    ),
    OtherCoverage: ("id", "person", "kind", "start", "end", "recorded_at"),
    Income: (
        "id", "person", "income_year", "total_income", "taxable", "tax_exempt", "revenue",
        "pension_revenue", "pension_income", "unreported", "applies_from", "recorded_at",
    ),
}  # fmt: skip
_LOADED_MODELS = tuple(_COLUMNS)
LOAD_BATCH_HOUSEHOLDS = 4000  # ~9,000 residents, ~45,000 rows over all tables per batch


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of small tuples are made.

    The city's rows hold no reference cycles, so collections find nothing, yet each one walks
    every live object: at a million residents that was a quarter of the generation time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _IsoDates(dict[date | None, str | None]):
    """date → ISO text, memoised: a million residents share a few tens of thousands of dates."""

    def __missing__(self, key: date | None) -> str | None:
        value = self[key] = None if key is None else key.isoformat()
        return value


def _same(value: Any) -> Any:
    return value


def _next_ids(connection: Any) -> dict[Any, int]:
    """The id after the current maximum of each table (ids are allocated by the loader)."""
    quote = connection.ops.quote_name
    result = {}
    with connection.cursor() as cursor:
        for model in _LOADED_MODELS:
            table = quote(model._meta.db_table)
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
            result[model] = cursor.fetchone()[0] + 1
    return result


def _pg_drop_foreign_keys(connection: Any) -> list[tuple[str, str, str]]:
    """Drop the loaded tables' foreign keys; return (table, name, definition) to re-create.

    PostgreSQL checks a deferred foreign key row by row at commit, a third of the load time
    at a million residents; re-adding the constraint checks all rows in one join instead
    (the documented bulk-load practice). All within the load's transaction, so a failure
    leaves the schema as it was. Returns [] (keep the keys) if PostgreSQL refuses, e.g.
    because rows inserted earlier in the same transaction still have checks pending.
    """
    tables = [model._meta.db_table for model in _LOADED_MODELS]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
            "ORDER BY conname",
            [tables],
        )
        keys = [tuple(row) for row in cursor.fetchall()]
        try:
            with transaction.atomic(using=connection.alias):
                for table, name, _ in keys:
                    cursor.execute(
                        f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}"
                    )
        except DatabaseError:
            return []
    return keys


def _pg_restore_foreign_keys(connection: Any, keys: list[tuple[str, str, str]]) -> None:
    with connection.cursor() as cursor:
        for table, name, definition in keys:
            quoted = connection.ops.quote_name(name)
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quoted} {definition}")


@contextmanager
def _sqlite_page_cache(connection: Any, kib: int) -> Iterator[None]:
    """A larger page cache for this connection while loading, then the previous size.

    The kana and birth-date indexes take inserts in random order; with SQLite's default
    2 MB cache a large load keeps re-reading index pages.
    """
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = {-int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def city_load(data: CityData, *, source: str, progress: bool = False) -> LoadStats:
    """Write the city into the resident tables; a no-op (``skipped``) if residents exist.

    ``source`` goes into the history rows' 記録元. Everything is one transaction, so a failed
    load leaves no half city behind, and each 世帯 can name its 世帯主 as it is inserted
    (foreign keys are checked at commit). On PostgreSQL the tables are locked against other
    writers until then, because ids are allocated here as MAX(id)+1.
    """
    started = perf_counter()
    alias = router.db_for_write(Person)
    connection = connections[alias]
    vendor = connection.vendor
    with transaction.atomic(using=alias), _gc_paused():
        if vendor == "postgresql":
            quote = connection.ops.quote_name
            tables = ", ".join(quote(m._meta.db_table) for m in _LOADED_MODELS)
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        if city_exists():
            return LoadStats(0, 0, 0, 0, 0, 0, perf_counter() - started, skipped=True)
        first = _next_ids(connection)
        if vendor == "postgresql":
            foreign_keys = _pg_drop_foreign_keys(connection)
            counts = _write_all(
                data, PostgresRowWriter(connection), first, source=source, progress=progress
            )
            _pg_restore_foreign_keys(connection, foreign_keys)
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), list(_LOADED_MODELS)):
                    cursor.execute(sql)
            # Fresh statistics, or the first queries on a million rows plan blindly.
            tables_analyze(connection, list(_LOADED_MODELS))
        elif vendor == "sqlite":
            with _sqlite_page_cache(connection, 256 * 1024):
                counts = _write_all(
                    data, SqliteRowWriter(connection), first, source=source, progress=progress
                )
        else:
            counts = _write_all(
                data, RowWriter(connection), first, source=source, progress=progress
            )
        audit_event_record(
            event_type=EventType.DEMO_CITY_GENERATED,
            actor=None,
            subject_type=SubjectType.SYSTEM,
            extra={
                "households": counts[Household],
                "residents": counts[Person],
                "seed": data.seed,
                "on": data.on.isoformat(),
                "source": source,
            },
        )
    return LoadStats(
        households=counts[Household],
        residents=counts[Person],
        person_histories=counts[PersonHistory],
        household_histories=counts[HouseholdHistory],
        coverages=counts[OtherCoverage],
        incomes=counts[Income],
        seconds=perf_counter() - started,
    )


def _write_all(
    data: CityData, writer: RowWriter, first: dict[Any, int], *, source: str, progress: bool
) -> dict[Any, int]:
    """Insert every row, a batch of households (with their members' rows) at a time."""
    iso = _IsoDates()
    d: Callable[[date | None], Any] = iso.__getitem__ if writer.dates_as_text else _same
    recorded_at: Any = timezone.now()
    if writer.dates_as_text:
        recorded_at = writer.connection.ops.adapt_datetimefield_value(recorded_at)
    # Snapshots are built from a template rather than json.dumps (a third of the Python time
    # of the load); encode_basestring is json's own (C) string quoting, so the text is valid
    # JSON for any value. A test compares the stored snapshot with the stored row.
    js = json.encoder.encode_basestring  # type: ignore[attr-defined]
    init = ChangeCode.INITIAL_LOAD.value
    hh_id0, p_id0 = first[Household], first[Person]
    ph_id0, hh_hist_id0 = first[PersonHistory], first[HouseholdHistory]
    cov_id0, inc_id0 = first[OtherCoverage], first[Income]
    households, people = data.households, data.people
    coverages, incomes = data.coverages, data.incomes
    kana_keys: dict[str, str] = {}
    applies: dict[int, Any] = {}  # 所得年 → 適用開始日 (8月切替, from the rule parameters)
    counts = dict.fromkeys(_LOADED_MODELS, 0)
    p = c = k = 0  # cursors into people, coverages and incomes (all in household order)
    with tqdm(
        total=len(people), desc="デモ市の読み込み", unit="人", file=sys.stderr, disable=not progress
    ) as bar:
        for h0 in range(0, len(households), LOAD_BATCH_HOUSEHOLDS):
            h1 = min(h0 + LOAD_BATCH_HOUSEHOLDS, len(households))
            p_start = p
            while p < len(people) and people[p].household < h1:
                p += 1
            # A household's INIT history starts no later than any member's, so that "which
            # household, headed by whom, on day D" has an answer wherever a member's has.
            since = [row.formed_on for row in households[h0:h1]]
            person_rows = []
            history_rows = []
            for i in range(p_start, p):
                r = people[i]
                if r.resident_from < since[r.household - h0]:
                    since[r.household - h0] = r.resident_from
                kana_key = kana_keys.get(r.name_kana)
                if kana_key is None:
                    kana_key = kana_keys[r.name_kana] = kana_search_key(r.name_kana)
                birth, resident_from = d(r.birth_date), d(r.resident_from)
                until = d(r.residence_until)
                person_rows.append(
                    (
                        *(p_id0 + i, r.atena_no, r.name, r.name_kana, kana_key, birth, r.sex),
                        *(r.postal_code, r.address, hh_id0 + r.household, r.relation),
                        *(resident_from, None, r.is_foreign, r.residence_status, until),
                    )
                )
                # The keys of people.registry's snapshots, plus the rest of the row.
                until_iso = iso[r.residence_until]
                snapshot = (
                    f'{{"household_no":{js(households[r.household].household_no)},'
                    f'"relation":{js(r.relation)},"name":{js(r.name)},'
                    f'"name_kana":{js(r.name_kana)},"address":{js(r.address)},'
                    f'"postal_code":{js(r.postal_code)},'
                    f'"resident_from":"{iso[r.resident_from]}","resident_until":null,'
                    f'"atena_no":{js(r.atena_no)},"birth_date":"{iso[r.birth_date]}",'
                    f'"sex":{r.sex:d},"is_foreign":{"true" if r.is_foreign else "false"},'
                    f'"residence_status":{js(r.residence_status)},'
                    f'"residence_until":{"null" if until_iso is None else js(until_iso)}}}'
                )
                history_rows.append(
                    (
                        *(ph_id0 + i, p_id0 + i, init, resident_from, resident_from),
                        *(recorded_at, source, snapshot),
                    )
                )
            household_rows = []
            household_history_rows = []
            for h in range(h0, h1):
                row = households[h]
                household_rows.append(
                    (hh_id0 + h, row.household_no, p_id0 + row.head, d(row.formed_on), None)
                )
                snapshot = (
                    f'{{"head":{js(people[row.head].atena_no)},'
                    f'"household_no":{js(row.household_no)},'
                    f'"formed_on":"{iso[row.formed_on]}","dissolved_on":null}}'
                )
                household_history_rows.append(
                    (
                        *(hh_hist_id0 + h, hh_id0 + h, init, d(since[h - h0]), recorded_at),
                        *(source, snapshot),
                    )
                )
            coverage_rows = []
            while c < len(coverages) and coverages[c].person < p:
                cv = coverages[c]
                coverage_rows.append(
                    (cov_id0 + c, p_id0 + cv.person, cv.kind, d(cv.start), d(cv.end), recorded_at)
                )
                c += 1
            income_rows = []
            while k < len(incomes) and incomes[k].person < p:
                inc = incomes[k]
                applies_from = applies.get(inc.income_year)
                if applies_from is None:
                    applies_from = applies[inc.income_year] = d(first_use_of(inc.income_year))
                income_rows.append(
                    (inc_id0 + k, p_id0 + inc.person, *inc[1:], applies_from, recorded_at)
                )
                k += 1
            for model, rows in (
                (Household, household_rows),
                (Person, person_rows),
                (PersonHistory, history_rows),
                (HouseholdHistory, household_history_rows),
                (OtherCoverage, coverage_rows),
                (Income, income_rows),
            ):
                writer.insert(model, _COLUMNS[model], rows, prepared=True)
                counts[model] += len(rows)
            bar.update(p - p_start)
    return counts

"""A month of synthetic レセプト for the demo city, in the claims file layout (interfaces.md §3).

Written for the insured persons of the month as the database holds them (their 記号・番号・
枝番 and 負担割合), so the file goes through the real importer (`kokuho import claims`) and
matches. Shapes follow a regional city's NHI month, roughly:

* about 1.4 claims per insured person, more with age; most are outpatient 医科 claims, about
  half of them followed by a 調剤 claim of a pharmacy with `prescribed_by` = that clinic;
  some 歯科, a little 訪問看護;
* about 2% inpatient claims of 20,000–150,000 points, some of them already capped at the
  hospital (限度額適用認定証: `limit_applied`, co-payment at the 一般 band's limit);
* a few dialysis patients (特定疾病): one large outpatient claim each, the co-payment capped at
  the 特定疾病 limit;
* about 0.5% claims of people whose insurance ended before the month (資格喪失後受診 with an
  old card), and about 0.1% under a 記号・番号 nobody holds (番号不明), for the 未照合 screen.

The co-payment is points × 10 yen × the person's 負担割合 for the month, rounded to 10 yen
(10円未満四捨五入, 国民健康保険法42条の2 — decision 85). Everything depends only on the
database and `seed`: the same city, month and seed give the same file.
"""

import csv
import datetime as dt
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from kokuho.eligibility.burden import HouseholdFacts, MemberFacts, copay_rate, is_elderly_on
from kokuho.eligibility.models import BranchNumber, CurrentEligibility, EligibilityPeriod
from kokuho.eligibility.selectors import (
    burden_bases_load,
    burden_basis_load,
    person_state_from,
)
from kokuho.interfaces.claims import LAYOUT
from kokuho.people.models import Person
from kokuho.rules.params import parameters

COLUMNS = LAYOUT.names
PREFECTURE_CODE = "38"  # 愛媛県 (the demo city's prefecture; 保険者番号 38xxxx)

# Per insured person per month, before the age factor (mean factor 1 over the city).
OUTPATIENT_MEAN = 0.83  # 医科 outpatient claims
PHARMACY_SHARE = 0.5  # of 医科 outpatient claims, followed by a 調剤 claim
DENTAL_RATE = 0.12
HOME_NURSING_RATE = 0.004
INPATIENT_RATE = 0.028  # ≈ 2% of all claims
LIMIT_APPLIED_SHARE = 0.3  # of inpatient claims
DIALYSIS_PER_INSURED = 1 / 400
LAPSED_SHARE = 0.005  # of all claims: 資格喪失後受診
LAPSED_LOOKBACK_DAYS = 365  # who may still show an old card
UNKNOWN_SHARE = 0.001  # of all claims: a 記号・番号 nobody holds (番号不明: a mistyped card)
UNKNOWN_SYMBOL = "99"  # no household of the demo city has it
# (age below, factor): how much more care older people get.
AGE_FACTORS = ((6, 1.0), (20, 0.5), (40, 0.6), (60, 0.9), (70, 1.3), (200, 1.6))


@dataclass(frozen=True)
class Insured:
    """An insured person of the month with the number their card shows."""

    person_id: int
    birth: dt.date
    symbol: str
    number: str
    branch: str
    rate: int = 30  # 負担割合 (%) for the month


@dataclass(frozen=True)
class Providers:
    clinics: list[str]
    hospitals: list[str]
    dental: list[str]
    pharmacies: list[str]
    nursing: list[str]
    dialysis: list[str]


def _month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _providers(rnd: random.Random) -> Providers:
    """A fixed pool of providers for the city: 都道府県 + 点数表 + 7 digits."""

    def codes(table: str, n: int) -> list[str]:
        found: set[str] = set()
        while len(found) < n:
            found.add(f"{PREFECTURE_CODE}{table}{rnd.randrange(10**7):07d}")
        return sorted(found)

    medical = codes("1", 90)
    return Providers(
        clinics=medical[:70],
        hospitals=medical[70:85],
        dialysis=medical[85:],
        dental=codes("3", 30),
        pharmacies=codes("4", 40),
        nursing=codes("6", 5),
    )


def _numbers(person_ids: Sequence[int], month: dt.date) -> dict[int, tuple[str, str, str]]:
    """記号・番号・枝番 each person's card shows in the month: the newest assigned by its end."""
    last = _month_end(month)
    found: dict[int, tuple[dt.date, str, str, str]] = {}
    rows = BranchNumber.objects.filter(person_id__in=person_ids).values_list(
        "person_id",
        "assigned_on",
        "household_number__symbol",
        "household_number__number",
        "branch",
    )
    for person_id, assigned_on, symbol, number, branch in rows.order_by("assigned_on", "id"):
        previous = found.get(person_id)
        if previous is None or assigned_on <= last:
            found[person_id] = (assigned_on, symbol, number, branch)
    return {pk: value[1:] for pk, value in found.items()}


def persons_of_month(month: dt.date) -> tuple[list[Insured], list[Insured]]:
    """Insured persons of the month (a current period overlaps it), and persons whose last
    period ended within a year before it (資格喪失後受診 candidates) — with their numbers."""
    last = _month_end(month)
    spans: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    periods = EligibilityPeriod.objects.filter(
        version__in=CurrentEligibility.objects.values("version_id")
    ).values_list("version__person_id", "start", "end")
    for person_id, start, end in periods.iterator(chunk_size=5000):
        spans[person_id].append((start, end))
    insured_ids, lapsed_ids = [], []
    lapsed_from = month - dt.timedelta(days=LAPSED_LOOKBACK_DAYS)
    for person_id, person_spans in sorted(spans.items()):
        if any(s <= last and (e is None or e >= month) for s, e in person_spans):
            insured_ids.append(person_id)
        elif all(e is not None and e < month for _s, e in person_spans) and any(
            e >= lapsed_from for _s, e in person_spans if e is not None
        ):
            lapsed_ids.append(person_id)
    births = dict(
        Person.objects.filter(pk__in=insured_ids + lapsed_ids).values_list("pk", "birth_date")
    )
    numbers = _numbers(insured_ids + lapsed_ids, month)

    def made(ids: list[int]) -> list[Insured]:
        return [Insured(pk, births[pk], *numbers[pk]) for pk in ids if pk in numbers]

    return made(insured_ids), made(lapsed_ids)


def insured_rate(insured: Insured, month: dt.date) -> int:
    """負担割合 (%) for the month, decided on its first day (eligibility.md §6).

    Under 70 it depends on age alone (未就学 20%, else 30%): the pure rule with no household.
    For 70–74 it depends on the household's income, so that person's basis is loaded and
    decided as the counter screen decides it."""
    first = month
    if not is_elderly_on(insured.birth, first):
        member = MemberFacts(str(insured.person_id), insured.birth, None)
        return int(copay_rate(member, first, HouseholdFacts(members=[member], head=None)).value)
    person = Person.objects.get(pk=insured.person_id)
    state = person_state_from(basis=burden_basis_load(person=person, days=[first]), on=first)
    if state.copay is not None:
        return int(state.copay.value)
    return int(parameters().at(first).copay.rates["elderly"])


RATE_CHUNK = 2000


def insured_rates(insured: Sequence[Insured], month: dt.date) -> dict[int, int]:
    """`insured_rate` of many persons, the 70–74 decided in bulk (`burden_bases_load`, a
    fixed number of queries per chunk): one person at a time was ~0.4 s each in a city of
    a million, hours for the demo's claims."""
    first = month
    rates: dict[int, int] = {}
    elderly = []
    for person in insured:
        if is_elderly_on(person.birth, first):
            elderly.append(person.person_id)
        else:
            rates[person.person_id] = insured_rate(person, month)
    fallback = int(parameters().at(first).copay.rates["elderly"])
    for start in range(0, len(elderly), RATE_CHUNK):
        people = list(Person.objects.filter(pk__in=elderly[start : start + RATE_CHUNK]))
        for pk, basis in burden_bases_load(persons=people, day=first).items():
            state = person_state_from(basis=basis, on=first)
            rates[pk] = int(state.copay.value) if state.copay is not None else fallback
    return rates


def copay_of(points: int, rate: int) -> int:
    """一部負担金: points × 10 yen × rate %, 10円未満四捨五入."""
    return (points * rate + 50) // 100 * 10


def _limit(month: dt.date, points: int) -> int:
    """What a hospital charges against a 限度額適用認定証 of the 一般 band (under 70): the
    band with the 1% formula and the lowest fixed part (ウ from 2015), from the parameters."""
    view = parameters().at(month).kogaku
    bands = [b for b in view.under70_limits.values() if "threshold" in b]
    band = min(bands, key=lambda b: b["base"])
    extra = max(0, points * 10 - band["threshold"]) * view.formula_rate
    return band["base"] + math.floor(extra + 0.5)


def _poisson(rnd: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    limit, k, product = math.exp(-mean), 0, rnd.random()
    while product > limit:
        k += 1
        product *= rnd.random()
    return k


def _points(rnd: random.Random, median: int, *, low: int, high: int) -> int:
    return max(low, min(high, int(rnd.lognormvariate(math.log(median), 0.8))))


def _age_factor(age: int) -> float:
    return next(factor for below, factor in AGE_FACTORS if age < below)


def claims_csv_write(path: Path, *, month: dt.date, seed: int, volume: float = 1.0) -> int:
    """Write a month of claims for the insured persons in the database to `path` (UTF-8
    CSV with a header); the number of claims written. `volume` multiplies how much care
    each person gets (a benchmark's heavier month); rows are written as they are drawn, so
    a month of millions of claims is not held in memory."""
    month = month.replace(day=1)
    rnd = random.Random(seed * 1_000_003 + month.year * 12 + month.month)
    providers = _providers(random.Random(seed))  # the same providers every month
    insured, lapsed = persons_of_month(month)
    rates = insured_rates(insured, month)
    insured = [
        Insured(i.person_id, i.birth, i.symbol, i.number, i.branch, rates[i.person_id])
        for i in insured
    ]
    insurer = settings.KOKUHO_INSURER_NUMBER
    specific_cap = parameters().at(month).kogaku.specific_disease["standard"]
    factors = [_age_factor(_age(i.birth, month)) for i in insured]
    scale = len(factors) / sum(factors) if factors else 1.0
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        written = 0

        def add(
            who: Insured,
            provider: str,
            *,
            setting: int = 2,
            kind: int = 1,
            points: int,
            copay: int | None = None,
            prescribed_by: str = "",
            specific_disease: bool = False,
            limit_applied: bool = False,
        ) -> None:
            nonlocal written
            written += 1
            writer.writerow(
                {
                    "claim_id": f"{month:%Y%m}{written:07d}",
                    "service_month": f"{month:%Y%m}",
                    "insurer_no": insurer,
                    "symbol": who.symbol,
                    "number": who.number,
                    "branch": who.branch,
                    "provider": provider,
                    "setting": str(setting),
                    "kind": str(kind),
                    "prescribed_by": prescribed_by,
                    "points": str(points),
                    "copay": str(copay_of(points, who.rate) if copay is None else copay),
                    "public_payer": "",
                    "specific_disease": "1" if specific_disease else "0",
                    "limit_applied": "1" if limit_applied else "0",
                }
            )

        adults = [i for i in insured if _age(i.birth, month) >= 40]
        dialysis_count = min(len(adults), max(1, round(len(insured) * DIALYSIS_PER_INSURED)))
        on_dialysis = {i.person_id for i in rnd.sample(adults, dialysis_count)} if adults else set()
        for who, factor in zip(insured, factors, strict=True):
            factor *= scale * volume
            home = rnd.choice(providers.clinics)  # the person's usual clinic
            if who.person_id in on_dialysis:
                points = rnd.randint(35_000, 45_000)
                copay = min(copay_of(points, who.rate), specific_cap)
                dialysis = rnd.choice(providers.dialysis)
                add(who, dialysis, points=points, copay=copay, specific_disease=True)
            for visit in range(_poisson(rnd, OUTPATIENT_MEAN * factor)):
                clinic = home if visit == 0 else rnd.choice(providers.clinics)
                add(who, clinic, points=_points(rnd, 700, low=80, high=30_000))
                if rnd.random() < PHARMACY_SHARE:
                    pharmacy = rnd.choice(providers.pharmacies)
                    points = _points(rnd, 650, low=50, high=20_000)
                    add(who, pharmacy, kind=4, points=points, prescribed_by=clinic)
            if rnd.random() < DENTAL_RATE * factor:
                points = _points(rnd, 900, low=100, high=10_000)
                add(who, rnd.choice(providers.dental), kind=3, points=points)
            if rnd.random() < HOME_NURSING_RATE * factor:
                add(who, rnd.choice(providers.nursing), kind=5, points=rnd.randint(8_000, 15_000))
            if rnd.random() < INPATIENT_RATE * factor:
                points = int(math.exp(rnd.uniform(math.log(20_000), math.log(150_000))))
                limited = rnd.random() < LIMIT_APPLIED_SHARE
                copay = min(copay_of(points, who.rate), _limit(month, points)) if limited else None
                hospital = rnd.choice(providers.hospitals)
                add(who, hospital, setting=1, points=points, copay=copay, limit_applied=limited)
        if lapsed:
            for _ in range(round(written * LAPSED_SHARE / (1 - LAPSED_SHARE))):
                who = rnd.choice(lapsed)
                add(
                    who,
                    rnd.choice(providers.clinics),
                    points=_points(rnd, 700, low=80, high=30_000),
                )
        # 番号不明, drawn apart so that the rest of the month stays as it was.
        unknown = random.Random(seed * 31 + month.month)
        for n in range(max(1, round(written * UNKNOWN_SHARE)) if written >= 100 else 0):
            who = unknown.choice(insured)
            number = Insured(who.person_id, who.birth, UNKNOWN_SYMBOL, f"{999000 + n:06d}", "01")
            add(
                number,
                rnd.choice(providers.clinics),
                points=_points(unknown, 700, low=80, high=3000),
            )
    return written

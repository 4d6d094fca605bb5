"""The person page's month table (負担割合・所得区分) is loaded set-based and decides exactly
what the per-date path decided.

`_state_by_queries` below is the per-date path as it stood before the set-based loader (one
registry lookup, member list, period, income and 基準収入額 query after another for each
day), kept here as the reference the new path is compared with. It reads the same public
selectors it always read (`household_members_on`, `income_in_force` …), so it stays honest
when those move.
"""

import datetime as dt
import itertools
import random
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kokuho.eligibility.burden import (
    HouseholdFacts,
    IncomeFacts,
    MemberFacts,
    copay_rate,
    income_category,
    income_year_for,
    month_start,
)
from kokuho.eligibility.derivation import insured_on
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.eligibility.scenario import scenario_load, scenario_run
from kokuho.eligibility.selectors import (
    LATE_ELDERLY_REASONS,
    PersonState,
    current_periods_by_person,
    eligibility_summary,
    household_facts,
    household_head_on,
    household_members_on,
    household_no_on,
    insured_period_on,
    person_state_on,
)
from kokuho.eligibility.services import (
    EligibilityError,
    Recorded,
    eligibility_recompute,
    kijun_apply,
)
from kokuho.people.income import IncomeValues, income_in_force, income_record
from kokuho.people.models import Household, Person, PersonHistory
from kokuho.people.registry import ResidentData

pytestmark = pytest.mark.django_db

TOKYO = ZoneInfo("Asia/Tokyo")
SCENARIOS = sorted(Path(__file__).parent.joinpath("scenarios").rglob("*.yaml"))


# --- the per-date path, as it was -------------------------------------------------------


def _income_by_queries(person: Person, income_year: int, on: dt.date) -> IncomeFacts | None:
    row = income_in_force(person=person, income_year=income_year, on=on)
    if row is None:
        return None
    return IncomeFacts(
        total_income=row.total_income,
        taxable=row.taxable,
        tax_exempt=row.tax_exempt,
        revenue=row.revenue,
        pension_revenue=row.pension_revenue,
        pension_income=row.pension_income,
        unreported=row.unreported,
    )


def _member_by_queries(person: Person, income_year: int, on: dt.date) -> MemberFacts:
    return MemberFacts(
        person.atena_no, person.birth_date, _income_by_queries(person, income_year, on)
    )


def _household_by_queries(person: Person, on: dt.date) -> HouseholdFacts | None:
    household_no = household_no_on(person=person, on=on)
    if household_no is None:
        return None
    household = Household.objects.get(household_no=household_no)
    first = month_start(on)
    income_year = income_year_for(on)
    members: list[MemberFacts] = []
    former: list[MemberFacts] = []
    applications: list[dt.date] = []
    others = [m for m in household_members_on(household=household, on=first) if m.pk != person.pk]
    periods_by_person = current_periods_by_person(person_ids=[m.pk for m in others])
    for member in others:
        periods = periods_by_person[member.pk]
        if insured_on(periods, first):
            members.append(_member_by_queries(member, income_year, on))
            applications += list(member.kijun_applications.values_list("applied_on", flat=True))
        elif periods and periods[-1].lost in LATE_ELDERLY_REASONS and periods[-1].end < first:
            former.append(_member_by_queries(member, income_year, on))
    members.append(_member_by_queries(person, income_year, on))
    applications += list(person.kijun_applications.values_list("applied_on", flat=True))
    head = household_head_on(household=household, on=on)
    return HouseholdFacts(
        members=members,
        head=_member_by_queries(head, income_year, on) if head else None,
        former_members=former,
        kijun_applied_on=applications,
    )


def _state_by_queries(person: Person, on: dt.date) -> PersonState:
    period = insured_period_on(person=person, on=on)
    if period is None:
        return PersonState(insured=False)
    household = _household_by_queries(person, on)
    subject = next(m for m in household.members if m.key == person.atena_no)
    return PersonState(
        insured=True,
        household_no=household_no_on(person=person, on=on),
        period=period,
        copay=copay_rate(subject, on, household),
        category=income_category(subject, on, household),
    )


LIFTS = ("基準収入額適用", "旧国保被保険者", "70〜74歳の旧ただし書き所得")


def _compare(person: Person, *, today: dt.date, months: int) -> tuple[list[str], set[str]]:
    """Where the summary's months and today-state differ from the per-date path, and which
    decisions the months reached (so a test can show it compared something)."""
    summary = eligibility_summary(person=person, today=today, months=months)
    differences, seen = [], set()
    for month in summary.months:
        old = _state_by_queries(person, month.month)
        new = (month.insured, month.copay, month.category)
        if new != (old.insured, old.copay, old.category):
            differences.append(f"{person.atena_no} {month.month}: {new} != {old}")
        if month.insured:
            seen |= {str(month.copay.value), month.copay.reason.split("（")[0]}
            seen |= {str(month.category.value)}
            seen |= {lift for lift in LIFTS if lift in month.copay.reason}
    if summary.today != _state_by_queries(person, today):
        differences.append(f"{person.atena_no} today {today}: {summary.today}")
    return differences, seen


# --- a small town built through the real services ----------------------------------------


class _Town:
    """Residents, events, income and applications through event_apply & co, in date order."""

    def __init__(self) -> None:
        self.numbers = itertools.count(1)
        self.last: dt.datetime | None = None
        self.applied = 0
        self.refused = 0

    def at(self, day: dt.date) -> dt.datetime:
        moment = dt.datetime.combine(day, dt.time(9, 0), tzinfo=TOKYO)
        if self.last is not None and moment <= self.last:
            moment = self.last + dt.timedelta(microseconds=1)
        self.last = moment
        return moment

    def event(self, event: ChangeEvent) -> bool:
        try:
            with transaction.atomic():
                event_apply(event, recorded_at=self.at(event.reported_on), actor=None)
        except EligibilityError:
            self.refused += 1
            return False
        self.applied += 1
        return True

    def arrive(
        self,
        *,
        household_no: str,
        relation: str,
        birth: dt.date,
        on: dt.date,
        kind: ChangeType = ChangeType.MOVE_IN,
    ) -> str:
        atena_no = f"77{next(self.numbers):08d}"
        data = ResidentData(atena_no, f"試験 {atena_no[-3:]}", "シケン タロウ", birth, 1)
        self.event(ChangeEvent(kind, on, on, atena_no, household_no, relation, data))
        return atena_no

    def change(self, kind: ChangeType, atena_no: str, on: dt.date, **fields: object) -> bool:
        return self.event(ChangeEvent(kind, on, on, atena_no, **fields))

    def income(self, atena_no: str, year: int, reported_on: dt.date, **values: int | bool) -> None:
        income_record(
            person=Person.objects.get(atena_no=atena_no),
            income_year=year,
            values=IncomeValues(**values),
            reported_on=reported_on,
            recorded_at=self.at(reported_on),
        )

    def kijun(self, atena_no: str, on: dt.date) -> None:
        kijun_apply(
            person=Person.objects.get(atena_no=atena_no),
            applied_on=on,
            recorded=Recorded(self.at(on), on, on, "kijun_application"),
        )

    def age_job(self, as_of: dt.date) -> None:
        """What the daily age job has done by `as_of` (75歳到達 …)."""
        moment = self.at(as_of)
        for person in Person.objects.all():
            eligibility_recompute(
                person=person, recorded=Recorded(moment, as_of, as_of, "age_75"), as_of=as_of
            )


# Incomes around the thresholds of §6 and §7: (total_income, taxable, tax_exempt, revenue).
INCOMES = [
    (0, 0, True, 0),
    (300_000, 0, True, 1_100_000),
    (1_200_000, 0, False, 1_900_000),
    (2_700_000, 1_600_000, False, 3_900_000),
    (2_400_000, 1_500_000, False, 3_700_000),
    (2_600_000, 1_500_000, False, 3_500_000),
    (4_000_000, 2_900_000, False, 5_500_000),
    (7_000_000, 5_000_000, False, 9_000_000),
    (10_000_000, 8_000_000, False, 13_000_000),
]
# Around 70 (高齢受給者 from the month after; born on the 1st), 75 (後期), 未就学 (April 1/2).
BIRTHS = [
    dt.date(1955, 3, 1),
    dt.date(1955, 11, 17),
    dt.date(1956, 7, 1),
    dt.date(1956, 12, 31),
    dt.date(1950, 6, 1),
    dt.date(1950, 10, 9),
    dt.date(1951, 2, 14),
    dt.date(1952, 1, 1),
    dt.date(1948, 5, 5),
    dt.date(1962, 9, 9),
    dt.date(1975, 4, 30),
    dt.date(1990, 1, 20),
]
CHILD_BIRTHS = [dt.date(2019, 4, 1), dt.date(2019, 4, 2), dt.date(2020, 4, 2), dt.date(2021, 3, 3)]
START, END = dt.date(2024, 4, 1), dt.date(2027, 7, 31)


def _some_day(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    """A day in the range, often the 1st (a change on the 1st counts from that month)."""
    day = start + dt.timedelta(days=rng.randrange((end - start).days + 1))
    return day.replace(day=1) if rng.random() < 0.3 and day.replace(day=1) >= start else day


def _town_build(seed: int, households: int) -> _Town:
    rng = random.Random(seed)
    town = _Town()
    plans: list[tuple[dt.date, int, str, str]] = []  # (day, order, what, atena_no)
    # Digits only, as the registry's 世帯番号 are (SQLite's JSON reading once lost them).
    numbers = [f"6{seed:02d}{i:07d}" for i in range(households)]
    members: dict[str, list[str]] = {}
    for household_no in numbers:
        arrive = START if rng.random() < 0.7 else _some_day(rng, START, dt.date(2026, 6, 30))
        head = town.arrive(
            household_no=household_no, relation="世帯主", birth=rng.choice(BIRTHS), on=arrive
        )
        people = [head]
        for _ in range(rng.randrange(1, 5)):
            child = rng.random() < 0.35
            people.append(
                town.arrive(
                    household_no=household_no,
                    relation="子" if child else "妻",
                    birth=rng.choice(CHILD_BIRTHS if child else BIRTHS),
                    on=arrive if rng.random() < 0.8 else _some_day(rng, arrive, END),
                )
            )
        members[household_no] = people
        for atena_no in people[1:]:
            for _ in range(2):
                roll = rng.random()
                day = _some_day(rng, START, END)
                if roll < 0.25:
                    plans.append((day, 0, "split", atena_no))
                elif roll < 0.5:
                    plans.append((day, 0, "join:" + rng.choice(numbers), atena_no))
                elif roll < 0.6:
                    plans.append((day, 0, "move_out", atena_no))
                elif roll < 0.8:
                    plans.append((day, 0, "head:" + household_no, atena_no))
        for atena_no in people:
            if rng.random() < 0.2:
                join = _some_day(rng, START, END)
                plans.append((join, 1, "employee_join", atena_no))
                if rng.random() < 0.5:
                    plans.append((_some_day(rng, join, END), 2, "employee_leave", atena_no))
            if rng.random() < 0.1:
                plans.append((_some_day(rng, START, END), 1, "disability", atena_no))
            if rng.random() < 0.05:
                plans.append((_some_day(rng, START, END), 3, "death", atena_no))
        if rng.random() < 0.2:
            plans.append((_some_day(rng, START, END), 0, "move_out", head))
    for day, _, what, atena_no in sorted(plans):
        if what == "split":
            town.change(
                ChangeType.HOUSEHOLD_SPLIT,
                atena_no,
                day,
                household_no=f"5{atena_no}",
                relation="世帯主",
            )
        elif what.startswith("join:"):
            town.change(
                ChangeType.HOUSEHOLD_JOIN, atena_no, day, household_no=what[5:], relation="同居人"
            )
        elif what.startswith("head:"):
            town.change(
                ChangeType.HEAD_CHANGE,
                atena_no,
                day,
                household_no=what[5:],
                new_head_atena_no=atena_no,
            )
        elif what == "move_out":
            town.change(ChangeType.MOVE_OUT, atena_no, day)
        elif what == "employee_join":
            town.change(ChangeType.EMPLOYEE_INSURANCE_JOIN, atena_no, day)
        elif what == "employee_leave":
            town.change(ChangeType.EMPLOYEE_INSURANCE_LEAVE, atena_no, day)
        elif what == "disability":
            town.change(ChangeType.DISABILITY_LATE_ELDERLY, atena_no, day)
        elif what == "death":
            town.change(ChangeType.DEATH, atena_no, day)
    for person in Person.objects.order_by("atena_no"):
        elderly = person.birth_date < dt.date(1958, 1, 1)
        for year in (2023, 2024, 2025, 2026):
            if rng.random() < 0.12:
                continue  # 未申告 for that year
            total, taxable, exempt, revenue = rng.choice(INCOMES)
            pension = rng.choice([0, revenue // 2]) if elderly else 0
            values = {
                "total_income": total,
                "taxable": taxable,
                "tax_exempt": exempt,
                "revenue": revenue,
                "pension_revenue": pension,
                "pension_income": max(0, pension - 1_100_000),
            }
            town.income(person.atena_no, year, dt.date(year + 1, 6, 10), **values)
            if rng.random() < 0.3:  # 更正, reported mid-month or on the 1st
                total, taxable, exempt, revenue = rng.choice(INCOMES)
                values |= {"total_income": total, "taxable": taxable, "revenue": revenue}
                values |= {"tax_exempt": exempt}
                fixed = _some_day(rng, dt.date(year + 1, 8, 1), dt.date(year + 2, 7, 31))
                town.income(person.atena_no, year, fixed, **values)
        if elderly and rng.random() < 0.6:
            town.kijun(person.atena_no, _some_day(rng, START, END))
    town.age_job(END)
    return town


# --- the proofs --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_decides_every_month_as_the_per_date_path_did(seed):
    town = _town_build(seed, households=10)
    codes = set(PersonHistory.objects.values_list("change_code", flat=True))
    assert town.applied > 40 and {"C02", "C03", "C04", "B01"} <= codes  # households do change
    today = dt.date(2027, 7, 17)
    seen: set[str] = set()
    differences = []
    for person in Person.objects.order_by("atena_no"):
        found, reached = _compare(person, today=today, months=30)
        differences += found
        seen |= reached
    # Days of a mid-month household change: the state on such a day takes the household as it
    # was on the 1st (a composition change counts from the month after).
    changes = PersonHistory.objects.filter(change_code__in=["C03", "C04"], change_date__day__gt=1)
    days = sorted(set(changes.values_list("change_date", flat=True)))
    for day in random.Random(seed).sample(days, min(8, len(days))):
        for person in Person.objects.order_by("atena_no"):
            if person_state_on(person=person, on=day) != _state_by_queries(person, day):
                differences.append(f"{person.atena_no} {day}")
    assert differences == []
    # Not a vacuous comparison: the town reaches the rules that read the household.
    assert {"20", "30", "未就学", "高齢受給者", "現役並み所得者"} <= seen
    assert {"ア", "エ", "一般", "基準収入額適用"} <= seen


def test_it_agrees_with_the_per_date_path_on_the_scenario_corpus():
    differences = []
    seen: set[str] = set()
    for case in SCENARIOS:
        scenario = scenario_load(case, today=dt.date(2026, 11, 24))
        with transaction.atomic():
            scenario_run(scenario)
            for person in Person.objects.order_by("atena_no"):
                found, reached = _compare(person, today=scenario.as_of, months=12)
                differences += found
                seen |= reached
                for day in scenario.queries:
                    if person_state_on(person=person, on=day) != _state_by_queries(person, day):
                        differences.append(f"{case.stem} {person.atena_no} {day}")
            transaction.set_rollback(True)
    assert len(SCENARIOS) >= 40
    assert differences == []
    assert set(LIFTS) | {"未就学", "現役並み所得者", "オ", "低所得Ⅰ", "低所得Ⅱ"} <= seen


def _household_of(size: int, town: _Town) -> Person:
    """A household of `size` insured members, 70–74 and younger, with income and 基準収入額."""
    household_no = f"40000{size:05d}"
    births = [dt.date(1954, 6, 10), dt.date(1955, 2, 20), dt.date(2021, 4, 2)]
    births += [dt.date(1980 + i, 1, 1) for i in range(size)]
    atenas = [
        town.arrive(
            household_no=household_no,
            relation="世帯主" if i == 0 else "子",
            birth=births[i],
            on=dt.date(2024, 4, 1),
        )
        for i in range(size)
    ]
    for atena_no in atenas:
        for year in (2024, 2025):
            town.income(
                atena_no,
                year,
                dt.date(year + 1, 6, 1),
                total_income=2_700_000,
                taxable=1_600_000,
                tax_exempt=False,
                revenue=3_900_000,
            )
        town.income(
            atena_no,
            2025,
            dt.date(2026, 10, 5),
            total_income=2_000_000,
            taxable=900_000,
            tax_exempt=False,
            revenue=3_000_000,
        )
    town.kijun(atenas[0], dt.date(2026, 9, 10))
    return Person.objects.get(atena_no=atenas[0])


def test_the_twelve_months_cost_the_same_few_queries_whatever_the_household_size(
    django_assert_max_num_queries,
):
    town = _Town()
    small, large = _household_of(2, town), _household_of(8, town)
    today = dt.date(2026, 11, 24)
    counts = []
    for person in (small, large):
        with CaptureQueriesContext(connection) as captured:
            summary = eligibility_summary(person=person, today=today)
        counts.append(len(captured))
        assert len(summary.months) == 12 and all(m.insured for m in summary.months)
    assert len(household_facts(person=large, on=today).members) == 8
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(12):
        eligibility_summary(person=large, today=today)

"""`burden_bases_load` (many persons, one day) decides each person exactly as the one-person
path does, and hands each basis only the subject's own household (the narrowing that keeps a
chunk of a city linear)."""

import datetime as dt

import pytest

from kokuho.eligibility.burden import month_start
from kokuho.eligibility.selectors import (
    burden_bases_load,
    copay_decisions_load,
    household_no_on,
    person_state_from,
    person_state_on,
)
from kokuho.eligibility.tests.test_eligibility_summary import _town_build
from kokuho.people.models import Person, PersonHistory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("seed", [4, 5])
def test_many_persons_are_decided_as_one_by_one_on_narrowed_households(seed):
    _town_build(seed, households=8)
    persons = list(Person.objects.order_by("pk"))
    # Mid-month household changes (a composition change counts from the month after), the
    # 1st of a month and a plain day.
    changes = PersonHistory.objects.filter(change_code__in=["C03", "C04"], change_date__day__gt=1)
    days = sorted(set(changes.values_list("change_date", flat=True)))[:4]
    days += [dt.date(2025, 8, 1), dt.date(2026, 4, 15)]
    decided = set()
    for day in days:
        bases = burden_bases_load(persons=persons, day=day)
        for person in persons:
            basis = bases[person.pk]
            state = person_state_from(basis=basis, on=day)
            assert state == person_state_on(person=person, on=day), (person.atena_no, day)
            if state.copay is not None:
                decided.add(state.copay.value)
            # Only the subject and those in the subject's household on the 1st are handed over.
            household_no = household_no_on(person=person, on=day)
            first = month_start(day)
            others = {pk for pk in basis.people if pk != person.pk}
            assert all(
                household_no_on(person=basis.people[pk], on=first) == household_no for pk in others
            )
            assert household_no is not None or not others
    assert len(persons) > 20 and decided  # the town decides something, over many households


@pytest.mark.parametrize("seed", [4, 6])
def test_copay_decisions_are_the_full_path_s_for_every_person_and_day(seed):
    """The bulk 負担割合 (households loaded for 70〜74 only) is `person_state_on(…).copay`
    for everyone — the insured under 6, under 70 and 70〜74, the uninsured — on days that
    straddle registry changes and the 70th-birthday months."""
    _town_build(seed, households=8)
    persons = list(Person.objects.order_by("pk"))
    changes = PersonHistory.objects.filter(change_code__in=["C03", "C04"], change_date__day__gt=1)
    days = sorted(set(changes.values_list("change_date", flat=True)))[:3]
    days += [dt.date(2025, 8, 1), dt.date(2026, 4, 15), dt.date(2026, 10, 1)]
    reasons = set()
    for day in days:
        decided = copay_decisions_load(persons=persons, day=day)
        for person in persons:
            expected = person_state_on(person=person, on=day).copay
            assert decided.get(person.pk) == expected, (person.atena_no, day)
            reasons.add(None if expected is None else expected.reason.split("（")[0])
    # Every branch is exercised: age alone, 70〜74 through the household, and no decision.
    assert {None, "", "未就学"} <= reasons and any(r and "高齢" in r for r in reasons), reasons

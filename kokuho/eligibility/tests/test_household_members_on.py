"""Registry members of a household on a day, read from the history snapshots."""

import datetime as dt

import pytest
from django.utils import timezone

from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.eligibility.selectors import household_eligibility, household_members_on
from kokuho.people.models import Household
from kokuho.people.registry import ResidentData

pytestmark = pytest.mark.django_db


def _arrive(atena_no: str, household_no: str, relation: str, on: dt.date) -> None:
    data = ResidentData(atena_no, "山田 太郎", "ヤマダ タロウ", dt.date(1980, 5, 10), 1)
    event = ChangeEvent(ChangeType.MOVE_IN, on, on, atena_no, household_no, relation, data)
    event_apply(event, recorded_at=timezone.now(), actor=None)


def test_it_finds_the_members_of_a_household_numbered_in_digits_only():
    # SQLite's JSON key reading decodes "5000000101" to an int; it must still match.
    day = dt.date(2026, 4, 1)
    _arrive("1000000101", "5000000101", "世帯主", day)
    _arrive("1000000102", "5000000101", "子", day)
    _arrive("1000000103", "5000000102", "世帯主", day)
    household = Household.objects.get(household_no="5000000101")
    members = household_members_on(household=household, on=dt.date(2026, 5, 1))
    assert sorted(m.atena_no for m in members) == ["1000000101", "1000000102"]
    nhi = household_eligibility(household=household, today=dt.date(2026, 5, 1))
    assert nhi.insured_members == ["1000000101", "1000000102"] and nhi.head_insured


def test_it_leaves_out_who_had_not_arrived_yet_on_the_day():
    _arrive("1000000201", "5000000201", "世帯主", dt.date(2026, 4, 1))
    _arrive("1000000202", "5000000201", "子", dt.date(2026, 6, 15))
    household = Household.objects.get(household_no="5000000201")
    on_june_1 = household_members_on(household=household, on=dt.date(2026, 6, 1))
    assert [m.atena_no for m in on_june_1] == ["1000000201"]

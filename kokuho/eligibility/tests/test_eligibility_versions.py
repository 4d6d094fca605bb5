"""Bitemporal history: a late report adds a version; the old belief stays readable."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.eligibility.models import EligibilityNotice, EligibilityVersion
from kokuho.eligibility.selectors import eligibility_periods, insured_number_of, insured_period_on
from kokuho.people.models import Person
from kokuho.people.registry import ResidentData

pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
D = dt.date


def _at(day):
    return dt.datetime.combine(day, dt.time(10), tzinfo=JST)


def _arrive(atena, household, relation="世帯主", day=D(2026, 4, 1), birth=D(1980, 1, 1)):
    data = ResidentData(atena, "山田 太郎", "ヤマダ タロウ", birth, 1, "みかん市本町1-1")
    event = ChangeEvent(ChangeType.MOVE_IN, day, day, atena, household, relation, data)
    event_apply(event, recorded_at=_at(day), actor=None)
    return Person.objects.get(atena_no=atena)


def _event(kind, atena, day, reported, **kw):
    event = ChangeEvent(kind, day, reported, atena, **kw)
    return event_apply(event, recorded_at=_at(reported), actor=None)


def test_a_late_employment_report_is_a_retroactive_new_version():
    person = _arrive("1000000001", "5000000001")
    _event(ChangeType.EMPLOYEE_INSURANCE_JOIN, person.atena_no, D(2026, 6, 15), D(2026, 9, 1))

    assert insured_period_on(person=person, on=D(2026, 7, 1)) is None
    believed = insured_period_on(person=person, on=D(2026, 7, 1), known_at=_at(D(2026, 8, 1)))
    assert believed is not None and believed.end is None
    latest = EligibilityVersion.objects.filter(person=person).order_by("-seq").first()
    assert latest.seq == 2 and latest.is_retroactive and latest.changed_from == D(2026, 6, 16)
    codes = set(EligibilityNotice.objects.filter(person=person).values_list("code", flat=True))
    assert codes == {"late_report", "retroactive_change"}


def test_a_timely_report_is_not_marked_retroactive():
    person = _arrive("1000000002", "5000000002")
    _event(ChangeType.EMPLOYEE_INSURANCE_JOIN, person.atena_no, D(2026, 6, 15), D(2026, 6, 29))
    latest = EligibilityVersion.objects.filter(person=person).order_by("-seq").first()
    assert not latest.is_retroactive
    assert not EligibilityNotice.objects.filter(person=person).exists()


def test_old_versions_are_never_changed():
    person = _arrive("1000000003", "5000000003")
    first = list(EligibilityVersion.objects.get(person=person, seq=1).periods.values())
    _event(ChangeType.MOVE_OUT, person.atena_no, D(2026, 10, 20), D(2026, 10, 21))
    assert list(EligibilityVersion.objects.get(person=person, seq=1).periods.values()) == first
    assert eligibility_periods(person=person)[0].end == D(2026, 10, 19)


def test_branches_are_given_in_order_and_kept_on_return():
    head = _arrive("1000000004", "5000000004")
    child = _arrive("1000000005", "5000000004", relation="子", birth=D(2010, 5, 5))
    assert insured_number_of(person=head).branch == "01"
    assert insured_number_of(person=child).branch == "02"
    _event(ChangeType.MOVE_OUT, child.atena_no, D(2026, 5, 1), D(2026, 5, 1))
    data = ResidentData(child.atena_no, "山田 次郎", "ヤマダ ジロウ", D(2010, 5, 5), 1)
    event_apply(
        ChangeEvent(
            ChangeType.MOVE_IN,
            D(2026, 8, 1),
            D(2026, 8, 1),
            child.atena_no,
            "5000000004",
            "子",
            data,
        ),
        recorded_at=_at(D(2026, 8, 1)),
        actor=None,
    )
    newcomer = _arrive(
        "1000000006", "5000000004", relation="子", birth=D(2012, 5, 5), day=D(2026, 9, 1)
    )
    assert insured_number_of(person=child).branch == "02"
    assert insured_number_of(person=newcomer).branch == "03"
    assert len(eligibility_periods(person=child)) == 2


def test_a_split_household_gets_its_own_number():
    head = _arrive("1000000007", "5000000007")
    son = _arrive("1000000008", "5000000007", relation="子", birth=D(2000, 1, 1))
    _event(
        ChangeType.HOUSEHOLD_SPLIT,
        son.atena_no,
        D(2026, 6, 1),
        D(2026, 6, 1),
        household_no="5000000008",
        relation="世帯主",
    )
    assert insured_number_of(person=son).household_number.household.household_no == "5000000008"
    assert insured_number_of(person=son).branch == "01"
    assert insured_number_of(person=head).household_number.household.household_no == "5000000007"
    assert len(eligibility_periods(person=son)) == 1  # the split does not break eligibility

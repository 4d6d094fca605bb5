import datetime as dt

import pytest
from django.utils import timezone

from kokuho.eligibility.daily import age_events_apply
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.eligibility.models import EligibilityVersion
from kokuho.eligibility.selectors import eligibility_periods
from kokuho.people.models import Person
from kokuho.people.registry import ResidentData

pytestmark = pytest.mark.django_db
D = dt.date


def _resident(atena, birth, day=D(2026, 4, 1)):
    data = ResidentData(atena, "試験 花子", "シケン ハナコ", birth, 2)
    event = ChangeEvent(ChangeType.MOVE_IN, day, day, atena, f"H{atena}", "世帯主", data)
    event_apply(event, recorded_at=timezone.now(), actor=None)
    return Person.objects.get(atena_no=atena)


def test_the_75th_birthday_ends_nhi_on_the_day_it_is_run():
    person = _resident("1000000201", D(1951, 9, 10))
    assert eligibility_periods(person=person)[0].end is None
    summary = age_events_apply(on=D(2026, 9, 10))
    assert summary.reached_75 == [person.atena_no]
    period = eligibility_periods(person=person)[0]
    assert (period.end, period.lost) == (D(2026, 9, 9), "age_75")


def test_running_twice_adds_nothing():
    person = _resident("1000000202", D(1951, 9, 10))
    age_events_apply(on=D(2026, 9, 10))
    age_events_apply(on=D(2026, 9, 10))
    assert EligibilityVersion.objects.filter(person=person).count() == 2


def test_a_missed_day_is_caught_up():
    person = _resident("1000000203", D(1951, 9, 10))
    age_events_apply(on=D(2026, 9, 14))
    assert eligibility_periods(person=person)[0].end == D(2026, 9, 9)


def test_the_day_before_does_nothing():
    person = _resident("1000000204", D(1951, 9, 10))
    assert age_events_apply(on=D(2026, 9, 9)).reached_75 == []
    assert eligibility_periods(person=person)[0].end is None


def test_70_and_preschool_transitions_are_listed():
    elder = _resident("1000000205", D(1956, 10, 2))
    child = _resident("1000000206", D(2020, 4, 1))
    assert age_events_apply(on=D(2026, 11, 1)).became_elderly == [elder.atena_no]
    assert age_events_apply(on=D(2026, 4, 1)).left_preschool == [child.atena_no]

import datetime as dt

import pytest
from django.utils import timezone

from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.eligibility.report import eligibility_overview
from kokuho.people.registry import ResidentData

pytestmark = pytest.mark.django_db
D = dt.date


def _move_in(atena, household, relation, birth=D(1980, 1, 1)):
    data = ResidentData(atena, "試験 一", "シケン ハジメ", birth, 1)
    event_apply(
        ChangeEvent(
            ChangeType.MOVE_IN, D(2026, 4, 1), D(2026, 4, 1), atena, household, relation, data
        ),
        recorded_at=timezone.now(),
        actor=None,
    )


def test_it_counts_insured_households_and_pseudo_heads_from_current_versions():
    _move_in("1000000301", "5000000301", "世帯主")
    _move_in("1000000302", "5000000301", "妻")
    _move_in("1000000303", "5000000302", "世帯主")
    event_apply(
        ChangeEvent(ChangeType.EMPLOYEE_INSURANCE_JOIN, D(2026, 5, 1), D(2026, 5, 1), "1000000301"),
        recorded_at=timezone.now(),
        actor=None,
    )
    overview = eligibility_overview(on=D(2026, 6, 1))
    assert (overview.insured, overview.households, overview.pseudo_heads) == (2, 2, 1)
    before = eligibility_overview(on=D(2026, 4, 15))
    assert (before.insured, before.households, before.pseudo_heads) == (3, 2, 0)

import datetime as dt

import pytest
from django.utils import timezone

from kokuho.eligibility.batch import eligibility_derive_initial
from kokuho.eligibility.derivation import derive_periods
from kokuho.eligibility.models import BranchNumber, EligibilityVersion, HouseholdNumber
from kokuho.eligibility.selectors import eligibility_periods, person_facts
from kokuho.people.models import OtherCoverage
from kokuho.testing import make_household, make_person

pytestmark = pytest.mark.django_db
ON = dt.date(2026, 4, 1)


@pytest.fixture
def city():
    family = make_household()
    father = make_person(
        household=family, birth_date=dt.date(1975, 1, 1), resident_from=dt.date(2000, 4, 1)
    )
    mother = make_person(
        name="山田 花子",
        kana="ヤマダ ハナコ",
        household=family,
        relation="妻",
        birth_date=dt.date(1977, 1, 1),
    )
    baby = make_person(
        name="山田 空",
        kana="ヤマダ ソラ",
        household=family,
        relation="子",
        birth_date=dt.date(2025, 6, 1),
        resident_from=dt.date(2025, 6, 1),
    )
    OtherCoverage.objects.create(
        person=father,
        kind="employee_insurance",
        start=dt.date(2010, 4, 1),
        recorded_at=timezone.now(),
    )
    elder = make_person(
        name="高橋 一",
        kana="タカハシ ハジメ",
        birth_date=dt.date(1940, 1, 1),
        resident_from=dt.date(2000, 4, 1),
    )
    return {"father": father, "mother": mother, "baby": baby, "elder": elder}


def test_batch_periods_equal_the_per_person_derivation(city):
    eligibility_derive_initial(on=ON)
    for person in city.values():
        facts = person_facts(person=person, as_of=ON)
        assert eligibility_periods(person=person) == derive_periods(
            basis=facts.basis, exclusions=facts.exclusions
        )


def test_it_derives_who_is_insured(city):
    stats = eligibility_derive_initial(on=ON)
    assert eligibility_periods(person=city["father"])[0].end == dt.date(2010, 4, 1)
    assert eligibility_periods(person=city["baby"])[0].acquired == "birth"
    assert eligibility_periods(person=city["elder"])[-1].lost == "age_75"
    assert stats.with_periods == 4


def test_numbers_follow_acquisition_order_within_the_household(city):
    eligibility_derive_initial(on=ON)
    family = city["father"].household
    number = HouseholdNumber.objects.get(household=family)
    branches = dict(
        BranchNumber.objects.filter(household_number=number).values_list("person__name", "branch")
    )
    assert branches == {"山田 太郎": "01", "山田 花子": "02", "山田 空": "03"}


def test_a_rerun_changes_nothing(city):
    eligibility_derive_initial(on=ON)
    counts = (EligibilityVersion.objects.count(), BranchNumber.objects.count())
    stats = eligibility_derive_initial(on=ON)
    assert stats.with_periods == 0
    assert (EligibilityVersion.objects.count(), BranchNumber.objects.count()) == counts

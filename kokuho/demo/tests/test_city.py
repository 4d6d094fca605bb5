"""Tests for the demo city (デモ市): generation, loading and the summary report."""

import json
import random
from collections import Counter, defaultdict
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from faker.providers.person.ja_JP import Provider as FakerJaPerson

from kokuho.audit.models import AuditEvent, EventType
from kokuho.core.kana import kana_search_key
from kokuho.demo.city import (
    FOREIGN_NAMES,
    CityData,
    HouseholdType,
    city_exists,
    city_generate,
    city_load,
)
from kokuho.demo.report import AGE_BANDS, city_summary, format_summary, years_before
from kokuho.people.income import first_use_of
from kokuho.people.models import (
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

ON = date(2026, 4, 1)
SPACE = "\u3000"


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def is_parent_of(parent: date, child: date) -> bool:
    """Born 20 to 45 years before the child (calendar years)."""
    return add_years(parent, 20) <= child <= add_years(parent, 45)


@pytest.fixture(scope="module")
def city() -> CityData:
    return city_generate(households=2000, seed=7, on=ON)


def members_by_household(data: CityData) -> dict[int, list[int]]:
    members: dict[int, list[int]] = defaultdict(list)
    for index, person in enumerate(data.people):
        members[person.household].append(index)
    return members


def open_coverage_people(data: CityData, on: date) -> dict[int, set[str]]:
    covered: dict[int, set[str]] = defaultdict(set)
    for row in data.coverages:
        if row.start <= on and (row.end is None or row.end >= on):
            covered[row.person].add(row.kind)
    return covered


# --- Generation (no database) ------------------------------------------------------------


def test_same_seed_gives_the_same_city_and_another_seed_another() -> None:
    # Disturbing the global random generator between runs must not matter either.
    random.seed(1)
    first = city_generate(households=300, seed=42, on=ON)
    random.seed(2)
    again = city_generate(households=300, seed=42, on=ON)
    other = city_generate(households=300, seed=43, on=ON)

    assert first == again
    assert first.people != other.people
    assert first.households[0].household_no != other.households[0].household_no
    assert [p.name for p in first.people[:50]] != [p.name for p in other.people[:50]]


def test_numbers_are_ten_digits_sequential_and_unique(city: CityData) -> None:
    atena = [int(p.atena_no) for p in city.people]
    households = [int(h.household_no) for h in city.households]

    assert all(len(p.atena_no) == 10 and p.atena_no.isdigit() for p in city.people)
    assert all(len(h.household_no) == 10 for h in city.households)
    assert atena == list(range(atena[0], atena[0] + len(atena)))
    assert households == list(range(households[0], households[0] + len(households)))


def test_relations_sexes_and_ages_are_consistent(city: CityData) -> None:
    people = city.people
    for h, indexes in members_by_household(city).items():
        household = city.households[h]
        members = [people[i] for i in indexes]
        head = people[household.head]
        assert household.head == indexes[0]
        assert [m.relation for m in members].count(Relation.HEAD) == 1
        assert head.relation == Relation.HEAD
        assert age_on(head.birth_date, ON) >= 18
        assert household.formed_on <= ON
        surname = head.name.split(SPACE)[0]
        children = [m for m in members if m.relation == Relation.CHILD]
        for m in members:
            assert m.birth_date <= m.resident_from <= ON
            assert m.address == head.address and m.postal_code == head.postal_code
            if m.relation != Relation.LODGER:
                assert m.name.split(SPACE)[0] == surname, (m, head)
            match m.relation:
                case Relation.WIFE:
                    assert (m.sex, head.sex) == (Sex.FEMALE, Sex.MALE)
                case Relation.HUSBAND:
                    assert (m.sex, head.sex) == (Sex.MALE, Sex.FEMALE)
                case Relation.CHILD:
                    parents = [p for p in members if p.relation in ("世帯主", "妻", "夫")]
                    assert all(is_parent_of(p.birth_date, m.birth_date) for p in parents), m
                case Relation.FATHER | Relation.MOTHER:
                    assert m.sex == (Sex.MALE if m.relation == Relation.FATHER else Sex.FEMALE)
                    assert is_parent_of(m.birth_date, head.birth_date), (m, head)
                case Relation.GRANDFATHER | Relation.GRANDMOTHER:
                    assert add_years(m.birth_date, 40) <= head.birth_date
                case Relation.GRANDCHILD:
                    assert add_years(head.birth_date, 40) <= m.birth_date
                    if len(children) == 1:
                        assert is_parent_of(children[0].birth_date, m.birth_date)
                case Relation.ELDER_BROTHER | Relation.ELDER_SISTER:
                    assert m.birth_date < head.birth_date
                    assert m.sex == (Sex.MALE if m.relation == "兄" else Sex.FEMALE)
                case Relation.YOUNGER_BROTHER | Relation.YOUNGER_SISTER:
                    assert m.birth_date > head.birth_date
                    assert m.sex == (Sex.MALE if m.relation == "弟" else Sex.FEMALE)


def test_foreign_residents_have_a_status_and_a_period_unless_permanent(city: CityData) -> None:
    foreigners = [p for p in city.people if p.is_foreign]

    assert 0.01 <= len(foreigners) / len(city.people) <= 0.05
    assert all(p.residence_status for p in foreigners)
    assert all(not p.residence_status and p.residence_until is None
               for p in city.people if not p.is_foreign)  # fmt: skip
    for p in foreigners:
        if p.residence_status == "永住者":
            assert p.residence_until is None
        else:
            assert p.residence_until is not None and p.residence_until > ON
    statuses = Counter(p.residence_status for p in foreigners)
    assert {"技能実習", "留学", "永住者", "特定技能"} <= set(statuses)


def test_names_are_kanji_kana_pairs_from_faker(city: CityData) -> None:
    # Built from Faker's provider here, independently of the generator's own copy.
    def pairs(rows: object) -> dict[str, set[str]]:
        found: dict[str, set[str]] = defaultdict(set)
        for kanji, kana, *_ in rows:  # type: ignore[attr-defined]
            found[kanji].add(kana)
        return found

    last = pairs(FakerJaPerson.last_name_pairs.keys())
    given = {
        Sex.MALE: pairs(FakerJaPerson.first_name_male_pairs),
        Sex.FEMALE: pairs(FakerJaPerson.first_name_female_pairs),
    }
    foreign_last = {k: {v} for names in FOREIGN_NAMES for k, v in names.surnames}
    foreign_given = {
        Sex.MALE: {k: {v} for names in FOREIGN_NAMES for k, v in names.male},
        Sex.FEMALE: {k: {v} for names in FOREIGN_NAMES for k, v in names.female},
    }
    for p in city.people:
        surname, given_name = p.name.split(SPACE)
        surname_kana, given_kana = p.name_kana.split(SPACE)
        surnames = foreign_last if p.is_foreign else last
        given_names = (foreign_given if p.is_foreign else given)[Sex(p.sex)]
        assert surname_kana in surnames[surname], p
        assert given_kana in given_names[given_name], p
        assert all("\u30a1" <= ch <= "\u30fa" or ch in "ー\u3000" for ch in p.name_kana), p


def test_demography_looks_like_a_regional_city(city: CityData) -> None:
    ages = [age_on(p.birth_date, ON) for p in city.people]
    kinds = Counter(h.kind for h in city.households)
    n = len(ages)

    assert 0.09 <= sum(a < 15 for a in ages) / n <= 0.13
    assert 0.29 <= sum(a >= 65 for a in ages) / n <= 0.37
    assert 0.33 <= kinds[HouseholdType.SINGLE] / len(city.households) <= 0.43
    assert all(kinds[kind] for kind in HouseholdType)
    assert 1.9 <= n / len(city.households) <= 2.6


def test_nhi_expected_share_is_between_18_and_27_percent(city: CityData) -> None:
    covered = open_coverage_people(city, ON)
    expected = [
        i for i, p in enumerate(city.people) if i not in covered and age_on(p.birth_date, ON) < 75
    ]
    share = len(expected) / len(city.people)

    assert 0.18 <= share <= 0.27, share


def test_coverage_is_plausible(city: CityData) -> None:
    people = city.people
    covered = open_coverage_people(city, ON)
    kinds = {kind.value for kind in CoverageKind}
    for row in city.coverages:
        assert row.kind in kinds
        assert people[row.person].birth_date <= row.start <= ON
        assert row.end is None or row.start <= row.end
    welfare_households = {people[i].household for i, k in covered.items() if "welfare" in k}
    assert 0.005 <= len(welfare_households) / len(city.households) <= 0.03
    for h, indexes in members_by_household(city).items():
        if h in welfare_households:
            assert all(covered[i] == {"welfare"} for i in indexes)
    for i, open_kinds in covered.items():
        assert len(open_kinds) == 1, (people[i], open_kinds)
        if "welfare" not in open_kinds:
            assert age_on(people[i].birth_date, ON) < 75, people[i]
    # Employed working-age people are mostly insured through work, pensioners mostly NHI.
    working = [i for i, p in enumerate(people) if 30 <= age_on(p.birth_date, ON) < 60]
    young_old = [i for i, p in enumerate(people) if 65 <= age_on(p.birth_date, ON) < 75]
    assert sum(covered.get(i) == {"employee_insurance"} for i in working) / len(working) > 0.7
    assert sum(i not in covered for i in young_old) / len(young_old) > 0.6
    assert any(row.kind == CoverageKind.UNION for row in city.coverages)
    assert any(row.end is not None for row in city.coverages)  # past, closed coverage


def test_incomes_are_consistent(city: CityData) -> None:
    people = city.people
    years = Counter(row.income_year for row in city.incomes)
    assert set(years) == {ON.year - 2, ON.year - 1}
    pensioners = 0
    for row in city.incomes:
        person = people[row.person]
        assert 0 <= row.taxable <= row.total_income <= row.revenue
        assert 0 <= row.pension_income <= row.pension_revenue <= row.revenue
        assert not row.tax_exempt or row.taxable == 0
        assert row.income_year >= person.birth_date.year
        if age_on(person.birth_date, ON) < 15:
            assert (row.total_income, row.revenue, row.tax_exempt) == (0, 0, True)
        if row.pension_revenue and age_on(person.birth_date, ON) >= 66:
            pensioners += 1
    assert pensioners > 0.2 * len(city.incomes)
    assert any(row.taxable > 0 for row in city.incomes)
    assert any(row.unreported for row in city.incomes)
    # Everyone born by then has a row for the last income year.
    born = {i for i, p in enumerate(people) if p.birth_date.year < ON.year}
    assert {row.person for row in city.incomes if row.income_year == ON.year - 1} == born


def test_years_before_counts_birthdays_and_leap_days() -> None:
    assert years_before(date(2026, 4, 1), 75) == date(1951, 4, 1)
    assert years_before(date(2025, 2, 28), 1) == date(2024, 2, 28)  # 2024-02-29: not yet 1
    assert years_before(date(2028, 2, 29), 1) == date(2027, 2, 28)


# --- Loading and the summary (database) -----------------------------------------------------


@pytest.mark.django_db(databases=["default"])
def test_load_writes_every_row_with_initial_history() -> None:
    data = city_generate(households=300, seed=3, on=ON)

    stats = city_load(data, source="test-city", progress=False)

    assert not stats.skipped
    assert (stats.households, stats.residents) == (len(data.households), len(data.people))
    assert Household.objects.count() == len(data.households)
    assert Person.objects.count() == len(data.people)
    assert PersonHistory.objects.filter(change_code="INIT", source="test-city").count() == len(
        data.people
    )
    assert HouseholdHistory.objects.filter(change_code="INIT").count() == len(data.households)
    assert OtherCoverage.objects.count() == stats.coverages == len(data.coverages)
    assert Income.objects.count() == stats.incomes == len(data.incomes)
    assert not Household.objects.filter(head__isnull=True).exists()
    for household in Household.objects.select_related("head"):
        assert household.head.household_id == household.id
        assert household.head.relation == Relation.HEAD
    for person in Person.objects.all():
        assert person.kana_key == kana_search_key(person.name_kana)
        (history,) = person.history.all()
        assert history.change_date == person.resident_from
        assert history.snapshot == {
            "atena_no": person.atena_no,
            "name": person.name,
            "name_kana": person.name_kana,
            "birth_date": person.birth_date.isoformat(),
            "sex": person.sex,
            "postal_code": person.postal_code,
            "address": person.address,
            "household_no": person.household.household_no,
            "relation": person.relation,
            "resident_from": person.resident_from.isoformat(),
            "resident_until": None,
            "is_foreign": person.is_foreign,
            "residence_status": person.residence_status,
            "residence_until": person.residence_until.isoformat()
            if person.residence_until
            else None,
        }
    for household in Household.objects.select_related("head"):
        (history,) = household.history.all()
        assert history.snapshot["head"] == household.head.atena_no
        assert history.snapshot["household_no"] == household.household_no
        earliest = min(m.resident_from for m in household.members.all())
        assert history.change_date == min(earliest, household.formed_on)
    for income in Income.objects.all()[:200]:
        assert income.applies_from == first_use_of(income.income_year)
        assert income.recorded_at is not None
    (event,) = AuditEvent.objects.filter(event_type=EventType.DEMO_CITY_GENERATED)
    assert event.subject_type == "system"
    assert event.extra["households"] == 300
    assert event.extra["residents"] == len(data.people)
    assert event.extra["seed"] == 3
    # New rows after the load get fresh ids (sequences were moved past the loaded ids).
    extra = Household.objects.create(household_no="X000000001", formed_on=ON)
    assert extra.id > max(Household.objects.exclude(id=extra.id).values_list("id", flat=True))


@pytest.mark.django_db(databases=["default"])
def test_summary_equals_direct_counts() -> None:
    data = city_generate(households=400, seed=11, on=ON)
    city_load(data, source="test-city", progress=False)

    summary = city_summary(on=ON)

    people = list(Person.objects.values_list("id", "birth_date", "is_foreign"))
    ages = {pk: age_on(birth, ON) for pk, birth, _ in people}
    covered = set(
        OtherCoverage.objects.filter(start__lte=ON)
        .exclude(end__lt=ON)
        .values_list("person_id", flat=True)
    )
    assert summary.residents == Person.objects.count() == len(data.people)
    assert summary.households == Household.objects.count()
    assert summary.foreigners == Person.objects.filter(is_foreign=True).count()
    assert summary.nhi_expected == sum(
        1 for pk, age in ages.items() if age < 75 and pk not in covered
    )
    for label, youngest, oldest in AGE_BANDS:
        assert summary.age_bands[label] == sum(
            1 for age in ages.values() if youngest <= age <= (oldest if oldest else 200)
        ), label
    assert sum(summary.age_bands.values()) == summary.residents
    # The report derives 世帯類型 from 続柄 in SQL; the generator knows what it built.
    assert summary.household_types == Counter(h.kind for h in data.households)
    assert 0 < summary.nhi_expected_percent < 100

    text = format_summary(summary)
    assert f"{summary.residents:,}" in text
    assert "国保対象見込み" in text and "ひとり親と子" in text and "75歳以上" in text


@pytest.mark.django_db(databases=["default"])
def test_summary_counts_only_residents_on_the_day() -> None:
    data = city_generate(households=300, seed=5, on=ON)
    city_load(data, source="test-city", progress=False)
    earlier = ON - timedelta(days=400)
    # Ten long-standing residents left on that very day: no longer counted on it.
    gone = Person.objects.filter(resident_from__lt=earlier).order_by("id")[:10]
    Person.objects.filter(id__in=[p.id for p in gone]).update(resident_until=earlier)

    summary = city_summary(on=earlier)

    present = Person.objects.filter(resident_from__lte=earlier, birth_date__lte=earlier).exclude(
        resident_until__lte=earlier
    )
    assert summary.residents == present.count()
    assert summary.residents < len(data.people) - 10


@pytest.mark.django_db(databases=["default"])
def test_second_run_is_a_no_op() -> None:
    out = StringIO()
    call_command("demo_city", households=60, seed=9, on="2026-04-01", no_progress=True, stdout=out)
    counts = (Person.objects.count(), Household.objects.count(), AuditEvent.objects.count())
    assert city_exists()
    assert "読み込み完了" in out.getvalue()

    again = StringIO()
    call_command(
        "demo_city", households=60, seed=10, on="2026-04-01", no_progress=True, stdout=again
    )
    stats = city_load(city_generate(households=5, seed=1, on=ON), source="x", progress=False)

    assert "既に生成済み" in again.getvalue()
    assert "住民数" in again.getvalue()
    assert stats.skipped
    assert (Person.objects.count(), Household.objects.count(), AuditEvent.objects.count()) == (
        counts
    )


def test_snapshot_template_is_valid_json_for_awkward_text() -> None:
    # The loader writes JSON by template with json's own string quoting.
    quote = json.encoder.encode_basestring  # type: ignore[attr-defined]
    awkward = 'a"b\\c\n\u3000カナ'
    assert json.loads(f'{{"x":{quote(awkward)}}}') == {"x": awkward}

"""Reads for eligibility: facts for the engine, periods (current or as known then), states."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from kokuho.eligibility.burden import (
    Decision,
    HouseholdFacts,
    IncomeFacts,
    MemberFacts,
    copay_rate,
    income_category,
    income_year_for,
    month_start,
)
from kokuho.eligibility.derivation import Interval, Period, insured_on
from kokuho.eligibility.facts import (
    CoverageFact,
    KeptFact,
    RegistryFact,
    basis_intervals,
    exclusion_intervals,
    initial_reason,
    residence_intervals,
)
from kokuho.eligibility.models import (
    BranchNumber,
    CurrentEligibility,
    EligibilityPeriod,
    EligibilityVersion,
    KeptInsured,
    KijunApplication,
)
from kokuho.people.income import income_in_force
from kokuho.people.models import ChangeCode, Household, Person
from kokuho.rules.params import parameters

LATE_ELDERLY_REASONS = ("age_75", "disability_late_elderly")


@dataclass(frozen=True)
class PersonFacts:
    basis: list[Interval]
    exclusions: list[Interval]


def person_facts(*, person: Person, as_of: dt.date) -> PersonFacts:
    """Everything the registry, other insurers and NHI itself know that bears on eligibility."""
    events = []
    death = None
    for row in person.history.order_by("change_date", "id"):
        if row.change_code == ChangeCode.INITIAL_LOAD:
            code = "A02" if initial_reason(person.birth_date, row.change_date) == "birth" else "A01"
        else:
            code = row.change_code
        abroad = row.snapshot.get("destination") == "abroad" or code == ChangeCode.OFFICIAL_DELETION
        events.append(RegistryFact(code, row.change_date, abroad))
        if code == ChangeCode.DEATH:
            death = row.change_date
    residence = residence_intervals(events)
    coverages = [CoverageFact(c.kind, c.start, c.end) for c in person.coverages.all()]
    kept = [KeptFact(k.kind, k.start, k.end) for k in person.kept_cases.all()]
    late_elderly_age = parameters().at(as_of).eligibility.late_elderly_age
    exclusions = exclusion_intervals(
        birth_date=person.birth_date,
        coverages=coverages,
        residence=residence,
        late_elderly_age=late_elderly_age,
    )
    # A 75th birthday still to come is not a fact yet: the period stays open (scenarios.md).
    exclusions = [x for x in exclusions if x.start_reason != "age_75" or x.start <= as_of]
    return PersonFacts(
        basis=basis_intervals(residence=residence, kept=kept, death=death), exclusions=exclusions
    )


def _periods_of(version: EligibilityVersion | None) -> list[Period]:
    if version is None:
        return []
    return [
        Period(p.start, p.end, p.acquired, p.lost or None)
        for p in EligibilityPeriod.objects.filter(version=version).order_by("start")
    ]


def current_version(*, person: Person) -> EligibilityVersion | None:
    pointer = CurrentEligibility.objects.filter(person=person).select_related("version").first()
    return pointer.version if pointer else None


def eligibility_periods(*, person: Person, known_at: dt.datetime | None = None) -> list[Period]:
    """The person's periods as finally known — or as we believed them at `known_at`."""
    if known_at is None:
        return _periods_of(current_version(person=person))
    version = (
        EligibilityVersion.objects.filter(person=person, recorded_at__lte=known_at)
        .order_by("-seq")
        .first()
    )
    return _periods_of(version)


def insured_period_on(
    *, person: Person, on: dt.date, known_at: dt.datetime | None = None
) -> Period | None:
    """Insured on `on`? (and what did we believe at `known_at`?)"""
    return insured_on(eligibility_periods(person=person, known_at=known_at), on)


def eligibility_history(*, person: Person) -> list[tuple[EligibilityVersion, list[Period]]]:
    """Every version, newest first, for the timeline with corrections marked."""
    versions = list(person.elig_versions.order_by("-seq"))
    return [(v, _periods_of(v)) for v in versions]


def household_no_on(*, person: Person, on: dt.date) -> str | None:
    """The registry household the person belonged to on `on` (from the history snapshots)."""
    row = person.history.filter(change_date__lte=on).order_by("-change_date", "-id").first()
    return row.snapshot.get("household_no") if row else None


def household_head_on(*, household: Household, on: dt.date) -> Person | None:
    row = household.history.filter(change_date__lte=on).order_by("-change_date", "-id").first()
    if row is None or not row.snapshot.get("head"):
        return None
    return Person.objects.filter(atena_no=row.snapshot["head"]).first()


def household_members_on(*, household: Household, on: dt.date) -> list[Person]:
    """Registry members of the household on `on`, current or former residents alike."""
    candidates = Person.objects.filter(
        Q(household=household) | Q(history__snapshot__household_no=household.household_no)
    ).distinct()
    return [p for p in candidates if household_no_on(person=p, on=on) == household.household_no]


def _income_facts(person: Person, income_year: int, on: dt.date) -> IncomeFacts | None:
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


def _member(person: Person, income_year: int, on: dt.date) -> MemberFacts:
    return MemberFacts(person.atena_no, person.birth_date, _income_facts(person, income_year, on))


def household_facts(*, person: Person, on: dt.date) -> HouseholdFacts | None:
    """The subject's NHI household for the month of `on` (first-of-month composition)."""
    household_no = household_no_on(person=person, on=on)
    if household_no is None:
        return None
    household = Household.objects.get(household_no=household_no)
    first = month_start(on)
    income_year = income_year_for(on)
    members: list[MemberFacts] = []
    former: list[MemberFacts] = []
    applications: list[dt.date] = []
    for member in household_members_on(household=household, on=first):
        if member.pk == person.pk:
            continue
        periods = eligibility_periods(person=member)
        if insured_on(periods, first):
            members.append(_member(member, income_year, on))
            applications += list(member.kijun_applications.values_list("applied_on", flat=True))
        elif periods and periods[-1].lost in LATE_ELDERLY_REASONS and periods[-1].end < first:
            former.append(_member(member, income_year, on))
    members.append(_member(person, income_year, on))
    applications += list(person.kijun_applications.values_list("applied_on", flat=True))
    head = household_head_on(household=household, on=on)
    return HouseholdFacts(
        members=members,
        head=_member(head, income_year, on) if head else None,
        former_members=former,
        kijun_applied_on=applications,
    )


@dataclass(frozen=True)
class PersonState:
    """What the counter needs to know about a person on a day."""

    insured: bool
    household_no: str | None = None
    period: Period | None = None
    copay: Decision | None = None
    category: Decision | None = None


def person_state_on(*, person: Person, on: dt.date) -> PersonState:
    period = insured_period_on(person=person, on=on)
    if period is None:
        return PersonState(insured=False)
    household = household_facts(person=person, on=on)
    subject = next(m for m in household.members if m.key == person.atena_no)
    return PersonState(
        insured=True,
        household_no=household_no_on(person=person, on=on),
        period=period,
        copay=copay_rate(subject, on, household),
        category=income_category(subject, on, household),
    )


def insured_number_of(*, person: Person) -> BranchNumber | None:
    """The person's newest 記号・番号・枝番."""
    return (
        BranchNumber.objects.filter(person=person)
        .select_related("household_number")
        .order_by("-assigned_on", "-id")
        .first()
    )


def open_kept_cases(*, person: Person) -> list[KeptInsured]:
    return list(person.kept_cases.filter(end__isnull=True))


def kijun_applications(*, person: Person) -> list[KijunApplication]:
    return list(person.kijun_applications.order_by("applied_on"))

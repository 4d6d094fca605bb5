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
from kokuho.eligibility.facts import CoverageFact, KeptFact, RegistryFact, person_intervals
from kokuho.eligibility.models import (
    BranchNumber,
    CurrentEligibility,
    EligibilityPeriod,
    EligibilityVersion,
    KeptInsured,
    KijunApplication,
)
from kokuho.people.income import income_in_force
from kokuho.people.models import Household, Person, PersonHistory
from kokuho.rules.params import parameters

LATE_ELDERLY_REASONS = ("age_75", "disability_late_elderly")


@dataclass(frozen=True)
class PersonFacts:
    basis: list[Interval]
    exclusions: list[Interval]


def person_facts(*, person: Person, as_of: dt.date) -> PersonFacts:
    """Everything the registry, other insurers and NHI itself know that bears on eligibility."""
    registry = [
        RegistryFact(row.change_code, row.change_date, row.snapshot.get("destination") == "abroad")
        for row in person.history.order_by("change_date", "id")
    ]
    basis, exclusions = person_intervals(
        birth_date=person.birth_date,
        registry=registry,
        coverages=[CoverageFact(c.kind, c.start, c.end) for c in person.coverages.all()],
        kept=[KeptFact(k.kind, k.start, k.end) for k in person.kept_cases.all()],
        late_elderly_age=parameters().at(as_of).eligibility.late_elderly_age,
        as_of=as_of,
    )
    return PersonFacts(basis=basis, exclusions=exclusions)


def periods_of_version(version: EligibilityVersion | None) -> list[Period]:
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
        return periods_of_version(current_version(person=person))
    version = (
        EligibilityVersion.objects.filter(person=person, recorded_at__lte=known_at)
        .order_by("-seq")
        .first()
    )
    return periods_of_version(version)


def insured_period_on(
    *, person: Person, on: dt.date, known_at: dt.datetime | None = None
) -> Period | None:
    """Insured on `on`? (and what did we believe at `known_at`?)"""
    return insured_on(eligibility_periods(person=person, known_at=known_at), on)


def eligibility_history(*, person: Person) -> list[tuple[EligibilityVersion, list[Period]]]:
    """Every version, newest first, for the timeline with corrections marked."""
    versions = list(person.elig_versions.order_by("-seq"))
    return [(v, periods_of_version(v)) for v in versions]


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
    """Registry members of the household on `on`, current or former residents alike.

    Two queries whatever the size of the household: the candidates, then all their history
    rows up to `on`, of which each person's last one says where they were."""
    candidates = {
        p.pk: p
        for p in Person.objects.filter(
            Q(household=household) | Q(history__snapshot__household_no=household.household_no)
        ).distinct()
    }
    where: dict[int, str | None] = {}
    rows = PersonHistory.objects.filter(person_id__in=candidates, change_date__lte=on).order_by(
        "person_id", "change_date", "id"
    )
    for person_id, household_no in rows.values_list("person_id", "snapshot__household_no"):
        where[person_id] = household_no
    return [candidates[pk] for pk, no in where.items() if no == household.household_no]


def current_periods_by_person(*, person_ids: list[int]) -> dict[int, list[Period]]:
    """Current periods of many persons in one query (pages and household decisions)."""
    found: dict[int, list[Period]] = {pk: [] for pk in person_ids}
    rows = EligibilityPeriod.objects.filter(
        version__in=CurrentEligibility.objects.filter(person_id__in=person_ids).values("version_id")
    ).order_by("start")
    for pid, start, end, acquired, lost in rows.values_list(
        "version__person_id", "start", "end", "acquired", "lost"
    ):
        found[pid].append(Period(start, end, acquired, lost or None))
    return found


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
    others = [m for m in household_members_on(household=household, on=first) if m.pk != person.pk]
    periods_by_person = current_periods_by_person(person_ids=[m.pk for m in others])
    for member in others:
        periods = periods_by_person[member.pk]
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


REASON_LABELS = {
    "move_in": "転入",
    "birth": "出生",
    "move_out": "転出",
    "death": "死亡",
    "employee_insurance_join": "社会保険加入",
    "employee_insurance_leave": "社会保険離脱",
    "union_join": "国保組合加入",
    "union_leave": "国保組合喪失",
    "welfare_start": "生活保護開始",
    "welfare_end": "生活保護廃止",
    "age_75": "75歳到達（後期高齢者医療へ）",
    "disability_late_elderly": "障害認定（後期高齢者医療へ）",
    "disability_withdrawn": "障害認定の撤回",
    "foreign_short_stay": "短期在留（適用除外）",
    "foreign_stay_extended": "在留期間の更新",
    "facility_move_out": "住所地特例",
    "student_move_out": "修学中の特例",
    "special_address_end": "住所地特例の終了",
    "student_end": "修学中の特例の終了",
    "initial_load": "初期移行",
    "kijun_application": "基準収入額適用申請",
}


def reason_label(code: str | None) -> str:
    return REASON_LABELS.get(code or "", code or "")


@dataclass(frozen=True)
class MonthState:
    month: dt.date
    insured: bool
    copay: Decision | None
    category: Decision | None


@dataclass(frozen=True)
class EligibilitySummary:
    """資格の照会画面: periods, their history (corrections marked), numbers, month by month."""

    periods: list[Period]
    history: list[tuple[EligibilityVersion, list[Period]]]
    number: BranchNumber | None
    insurer_number: str
    months: list[MonthState]
    notices: list
    today: PersonState


def eligibility_summary(*, person: Person, today: dt.date, months: int = 12) -> EligibilitySummary:
    from django.conf import settings

    first = month_start(today)
    month_list = []
    for back in range(months - 1, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        month_list.append(dt.date(year, month + 1, 1))
    states = []
    for month in month_list:
        state = person_state_on(person=person, on=month)
        states.append(MonthState(month, state.insured, state.copay, state.category))
    return EligibilitySummary(
        periods=eligibility_periods(person=person),
        history=eligibility_history(person=person),
        number=insured_number_of(person=person),
        insurer_number=settings.KOKUHO_INSURER_NUMBER,
        months=states,
        notices=list(person.elig_notices.order_by("-created_at")),
        today=person_state_on(person=person, on=today),
    )


@dataclass(frozen=True)
class HouseholdEligibility:
    number: str
    head_insured: bool
    insured_members: list[str]


def household_eligibility(*, household: Household, today: dt.date) -> HouseholdEligibility:
    """国保世帯: its 記号・番号, who is insured today, and whether the head is 擬制世帯主."""
    number = getattr(household, "nhi_number", None)
    members = household_members_on(household=household, on=today)
    periods = current_periods_by_person(person_ids=[m.pk for m in members])
    insured = [m.atena_no for m in members if insured_on(periods[m.pk], today)]
    head = household_head_on(household=household, on=today)
    return HouseholdEligibility(
        number=f"{number.symbol}-{number.number}" if number else "",
        head_insured=bool(head and head.atena_no in insured),
        insured_members=insured,
    )

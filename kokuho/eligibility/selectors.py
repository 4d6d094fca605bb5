"""Reads for eligibility: facts for the engine, periods (current or as known then), states."""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, Model, OuterRef, Q
from django.db.models.fields.json import KT

from kokuho.eligibility.burden import (
    Decision,
    HouseholdFacts,
    IncomeFacts,
    MemberFacts,
    copay_rate,
    copay_rate_by_age,
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
from kokuho.people.income import income_in_force_among
from kokuho.people.models import Household, HouseholdHistory, Income, Person, PersonHistory
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
    periods: dict[int, list[Period]] = {v.pk: [] for v in versions}
    rows = EligibilityPeriod.objects.filter(version__person=person).order_by("start")
    for version_id, start, end, acquired, lost in rows.values_list(
        "version_id", "start", "end", "acquired", "lost"
    ):
        periods[version_id].append(Period(start, end, acquired, lost or None))
    return [(v, periods[v.pk]) for v in versions]


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
    rows = PersonHistory.objects.filter(person_id__among=candidates, change_date__lte=on).order_by(
        "person_id", "change_date", "id"
    )
    # The whole snapshot, not `snapshot__household_no`: on SQLite a key read decodes a numeric
    # 世帯番号 ("5000000101") to an int that never equals the string.
    for person_id, snapshot in rows.values_list("person_id", "snapshot"):
        where[person_id] = snapshot.get("household_no")
    return [candidates[pk] for pk, no in where.items() if no == household.household_no]


def current_periods_by_person(*, person_ids: list[int]) -> dict[int, list[Period]]:
    """Current periods of many persons in one query (pages and household decisions)."""
    found: dict[int, list[Period]] = {pk: [] for pk in person_ids}
    rows = EligibilityPeriod.objects.filter(
        version__in=CurrentEligibility.objects.filter(person_id__among=person_ids).values(
            "version_id"
        )
    ).order_by("start")
    for pid, start, end, acquired, lost in rows.values_list(
        "version__person_id", "start", "end", "acquired", "lost"
    ):
        found[pid].append(Period(start, end, acquired, lost or None))
    return found


def _last_on(rows: list[tuple[dt.date, str | None]], day: dt.date) -> str | None:
    """The value of the last dated row on or before `day` (rows in registry order)."""
    found = None
    for change_date, value in rows:
        if change_date > day:
            break
        found = value
    return found


@dataclass(frozen=True)
class BurdenBasis:
    """Everything the 負担割合・所得区分 of one person need on a set of days, loaded at once.

    `burden_basis_load` fills it in a fixed number of queries, whatever the number of days
    and the size of the households; `household_facts_from` and `person_state_from` then
    decide each day in memory with the pure rules of `burden`."""

    subject: Person
    people: dict[int, Person]  # the subject, and everyone ever in one of their households
    registry: dict[int, list[tuple[dt.date, str | None]]]  # person → (異動日, 世帯番号)
    heads: dict[str, list[tuple[dt.date, str | None]]]  # 世帯番号 → (異動日, 世帯主の宛名番号)
    heads_by_atena: dict[str, Person]
    periods: dict[int, list[Period]]  # current periods
    incomes: dict[tuple[int, int], list[Income]]  # (person, income year) → records
    kijun: dict[int, list[dt.date]]  # person → 基準収入額適用申請日


def burden_basis_load(*, person: Person, days: Sequence[dt.date]) -> BurdenBasis:
    """Load what deciding `days` needs: the registry households the person was in on those
    days, every candidate member of them and their history up to the last day, the heads,
    current periods, income records of the income years the days use (the August switch
    included) and 基準収入額 applications. Eight queries at most (fewer when the person has
    no household on those days)."""
    last = max(days)
    # Whole snapshots are read, as in household_members_on: a key read (or KT) on SQLite turns
    # "5000000101" into an int and a JSON null into "null".
    own = [
        (change_date, snapshot.get("household_no"))
        for change_date, snapshot in person.history.filter(change_date__lte=last)
        .order_by("change_date", "id")
        .values_list("change_date", "snapshot")
    ]
    household_nos = {_last_on(own, day) for day in days} - {None}
    # Membership on a day is what each candidate's last history row by then says, so anyone
    # whose history ever names one of the households is a candidate (household_members_on).
    people: dict[int, Person] = {person.pk: person}
    registry: dict[int, list[tuple[dt.date, str | None]]] = {person.pk: own}
    heads: dict[str, list[tuple[dt.date, str | None]]] = {no: [] for no in household_nos}
    if household_nos:
        candidates = Person.objects.filter(
            pk__in=PersonHistory.objects.filter(
                snapshot__household_no__in=sorted(household_nos)
            ).values("person_id")
        )
        people = {p.pk: p for p in candidates} | people
        registry = {pk: [] for pk in people}
        rows = PersonHistory.objects.filter(person_id__among=people, change_date__lte=last)
        for person_id, change_date, snapshot in rows.order_by(
            "person_id", "change_date", "id"
        ).values_list("person_id", "change_date", "snapshot"):
            registry[person_id].append((change_date, snapshot.get("household_no")))
        head_rows = HouseholdHistory.objects.filter(
            household__household_no__among=sorted(household_nos), change_date__lte=last
        ).order_by("household_id", "change_date", "id")
        for household_no, change_date, snapshot in head_rows.values_list(
            "household__household_no", "change_date", "snapshot"
        ):
            heads[household_no].append((change_date, snapshot.get("head") or None))
    by_atena = {p.atena_no: p for p in people.values()}
    wanted = {atena for rows in heads.values() for _, atena in rows if atena} - set(by_atena)
    if wanted:
        by_atena |= {p.atena_no: p for p in Person.objects.filter(atena_no__among=sorted(wanted))}
    ids = sorted(people)
    incomes: dict[tuple[int, int], list[Income]] = {}
    income_rows = Income.objects.filter(
        person_id__among=sorted({p.pk for p in by_atena.values()} | set(ids)),
        income_year__in=sorted({income_year_for(day) for day in days}),
    )
    for row in income_rows:
        incomes.setdefault((row.person_id, row.income_year), []).append(row)
    kijun: dict[int, list[dt.date]] = {pk: [] for pk in ids}
    applications = KijunApplication.objects.filter(person_id__among=ids)
    for person_id, applied_on in applications.values_list("person_id", "applied_on"):
        kijun[person_id].append(applied_on)
    return BurdenBasis(
        subject=person,
        people=people,
        registry=registry,
        heads=heads,
        heads_by_atena=by_atena,
        periods=current_periods_by_person(person_ids=ids),
        incomes=incomes,
        kijun=kijun,
    )


# The tables `burden_bases_load` (and so `person_state_from`) reads by lists of ids: what a
# bulk job deciding many persons' states should have analysed first on PostgreSQL
# (`core.bulkwrite.stale_tables_analyze`), or a never-analysed table is read by a full scan.
PERSON_STATE_READS: tuple[type[Model], ...] = (
    Person,
    PersonHistory,
    Household,
    HouseholdHistory,
    Income,
    EligibilityVersion,
    EligibilityPeriod,
    CurrentEligibility,
    BranchNumber,
    KeptInsured,
    KijunApplication,
)


def burden_bases_load(*, persons: Sequence[Person], day: dt.date) -> dict[int, BurdenBasis]:
    """`burden_basis_load` for many persons on one day, in the same eight queries whatever
    their number (the yearly renewal of documents decides a whole city). Each basis decides
    `day` (`person_state_from(basis=…, on=day)`), exactly as `burden_basis_load` would
    (tested against `person_state_on`).

    The bases share the loaded rows, but each one's `people` is narrowed to the subject and
    those whose 世帯番号 on the first of the month is the subject's on `day` — the only
    people `household_facts_from` picks on `day`. Handing every subject the whole superset
    made deciding a chunk quadratic (each subject read past everyone else's households)."""
    if not persons:
        return {}
    subjects = {p.pk: p for p in persons}
    own: dict[int, list[tuple[dt.date, str | None]]] = {pk: [] for pk in subjects}
    for person_id, change_date, snapshot in (
        PersonHistory.objects.filter(person_id__among=sorted(subjects), change_date__lte=day)
        .order_by("person_id", "change_date", "id")
        .values_list("person_id", "change_date", "snapshot")
    ):
        own[person_id].append((change_date, snapshot.get("household_no")))
    household_nos = {_last_on(rows, day) for rows in own.values()} - {None}
    people: dict[int, Person] = dict(subjects)
    registry: dict[int, list[tuple[dt.date, str | None]]] = dict(own)
    heads: dict[str, list[tuple[dt.date, str | None]]] = {no: [] for no in household_nos}
    if household_nos:
        candidates = Person.objects.filter(
            pk__in=PersonHistory.objects.filter(
                snapshot__household_no__in=sorted(household_nos)
            ).values("person_id")
        ).exclude(pk__among=sorted(subjects))
        people |= {p.pk: p for p in candidates}
        registry = {pk: [] for pk in people}
        rows = PersonHistory.objects.filter(person_id__among=sorted(people), change_date__lte=day)
        for person_id, change_date, snapshot in rows.order_by(
            "person_id", "change_date", "id"
        ).values_list("person_id", "change_date", "snapshot"):
            registry[person_id].append((change_date, snapshot.get("household_no")))
        head_rows = HouseholdHistory.objects.filter(
            household__household_no__among=sorted(household_nos), change_date__lte=day
        ).order_by("household_id", "change_date", "id")
        for household_no, change_date, snapshot in head_rows.values_list(
            "household__household_no", "change_date", "snapshot"
        ):
            heads[household_no].append((change_date, snapshot.get("head") or None))
    by_atena = {p.atena_no: p for p in people.values()}
    wanted = {atena for rows in heads.values() for _, atena in rows if atena} - set(by_atena)
    if wanted:
        by_atena |= {p.atena_no: p for p in Person.objects.filter(atena_no__among=sorted(wanted))}
    ids = sorted(people)
    incomes: dict[tuple[int, int], list[Income]] = {}
    for row in Income.objects.filter(
        person_id__among=sorted({p.pk for p in by_atena.values()} | set(ids)),
        income_year__in=[income_year_for(day)],
    ):
        incomes.setdefault((row.person_id, row.income_year), []).append(row)
    kijun: dict[int, list[dt.date]] = {pk: [] for pk in ids}
    applications = KijunApplication.objects.filter(person_id__among=ids)
    for person_id, applied_on in applications.values_list("person_id", "applied_on"):
        kijun[person_id].append(applied_on)
    periods = current_periods_by_person(person_ids=ids)
    first = month_start(day)
    on_first: dict[str | None, dict[int, Person]] = {}
    for pk, member in people.items():
        on_first.setdefault(_last_on(registry[pk], first), {})[pk] = member
    return {
        pk: BurdenBasis(
            subject=subject,
            people=_household_people(on_first, _last_on(registry[pk], day), subject),
            registry=registry,
            heads=heads,
            heads_by_atena=by_atena,
            periods=periods,
            incomes=incomes,
            kijun=kijun,
        )
        for pk, subject in subjects.items()
    }


def copay_decisions_load(
    *, persons: Sequence[Any], day: dt.date, periods: dict[int, list[Period]] | None = None
) -> dict[int, Decision | None]:
    """負担割合 of many persons on one day: for each, exactly `person_state_from(…).copay` of
    `burden_bases_load` (None when not insured on `day`, or insured with no registry
    household). Only the 高齢受給者 among them need their households and incomes loaded; a
    rate that age alone decides costs the person's registry rows and periods (a city-wide
    extract, where most insured are under 70, no longer loads every household). `persons`
    need only `pk` and `birth_date`: the 高齢受給者 among them are read as `Person`s here.
    `periods`: the persons' current periods if the caller has read them already."""
    by_age = {p.pk: copay_rate_by_age(p.birth_date, day) for p in persons}
    found: dict[int, Decision | None] = {}
    elderly = [p for p in persons if by_age[p.pk] is None]
    if not all(isinstance(p, Person) for p in elderly):
        elderly = list(Person.objects.filter(pk__among=sorted(p.pk for p in elderly)))
    for pk, basis in burden_bases_load(persons=elderly, day=day).items():
        found[pk] = person_state_from(basis=basis, on=day).copay
    young = sorted(p.pk for p in persons if by_age[p.pk] is not None)
    if not young:
        return found
    registry: dict[int, list[tuple[dt.date, str | None]]] = {pk: [] for pk in young}
    # The 世帯番号 alone, as text: decoding every snapshot was most of an extract's burden.
    for person_id, change_date, household_no in (
        PersonHistory.objects.filter(person_id__among=young, change_date__lte=day)
        .order_by("person_id", "change_date", "id")
        .values_list("person_id", "change_date", KT("snapshot__household_no"))
    ):
        registry[person_id].append((change_date, household_no))
    if periods is None:
        periods = current_periods_by_person(person_ids=young)
    for pk in young:
        insured = insured_on(periods.get(pk, []), day) is not None
        found[pk] = by_age[pk] if insured and _last_on(registry[pk], day) is not None else None
    return found


def _household_people(
    on_first: dict[str | None, dict[int, Person]], household_no: str | None, subject: Person
) -> dict[int, Person]:
    if household_no is None:
        return {subject.pk: subject}
    return on_first.get(household_no, {}) | {subject.pk: subject}


def _income_facts(
    basis: BurdenBasis, person: Person, income_year: int, on: dt.date
) -> IncomeFacts | None:
    row = income_in_force_among(rows=basis.incomes.get((person.pk, income_year), ()), on=on)
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


def _member(basis: BurdenBasis, person: Person, income_year: int, on: dt.date) -> MemberFacts:
    return MemberFacts(
        person.atena_no, person.birth_date, _income_facts(basis, person, income_year, on)
    )


def household_facts_from(*, basis: BurdenBasis, on: dt.date) -> HouseholdFacts | None:
    """The subject's NHI household for the month of `on` (first-of-month composition), from
    what `burden_basis_load` loaded for a set of days including `on`."""
    subject = basis.subject
    household_no = _last_on(basis.registry[subject.pk], on)
    if household_no is None:
        return None
    first = month_start(on)
    income_year = income_year_for(on)
    members: list[MemberFacts] = []
    former: list[MemberFacts] = []
    applications: list[dt.date] = []
    for pk in sorted(basis.people):
        if pk == subject.pk or _last_on(basis.registry[pk], first) != household_no:
            continue
        member = basis.people[pk]
        periods = basis.periods[pk]
        if insured_on(periods, first):
            members.append(_member(basis, member, income_year, on))
            applications += basis.kijun[pk]
        elif periods and periods[-1].lost in LATE_ELDERLY_REASONS and periods[-1].end < first:
            former.append(_member(basis, member, income_year, on))
    members.append(_member(basis, subject, income_year, on))
    applications += basis.kijun[subject.pk]
    head_atena = _last_on(basis.heads[household_no], on)
    head = basis.heads_by_atena.get(head_atena) if head_atena else None
    return HouseholdFacts(
        members=members,
        head=_member(basis, head, income_year, on) if head else None,
        former_members=former,
        kijun_applied_on=applications,
    )


def household_facts(*, person: Person, on: dt.date) -> HouseholdFacts | None:
    """The subject's NHI household for the month of `on` (first-of-month composition)."""
    return household_facts_from(basis=burden_basis_load(person=person, days=[on]), on=on)


@dataclass(frozen=True)
class PersonState:
    """What the counter needs to know about a person on a day."""

    insured: bool
    household_no: str | None = None
    period: Period | None = None
    copay: Decision | None = None
    category: Decision | None = None


def person_state_from(*, basis: BurdenBasis, on: dt.date) -> PersonState:
    """The person's state on `on`, from what `burden_basis_load` loaded for it."""
    subject = basis.subject
    period = insured_on(basis.periods[subject.pk], on)
    if period is None:
        return PersonState(insured=False)
    household = household_facts_from(basis=basis, on=on)
    if household is None:
        # Insured with no registry household on the day (only hand-made data): nothing to
        # decide the household rules on, so say insured and leave the decisions empty.
        return PersonState(insured=True, period=period)
    member = household.members[-1]  # the subject comes last
    return PersonState(
        insured=True,
        household_no=_last_on(basis.registry[subject.pk], on),
        period=period,
        copay=copay_rate(member, on, household),
        category=income_category(member, on, household),
    )


def person_state_on(*, person: Person, on: dt.date) -> PersonState:
    """The person's state on one day: the month table's path with a one-day window."""
    return person_state_from(basis=burden_basis_load(person=person, days=[on]), on=on)


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
    # One load for all the months and today, then each day decided in memory: the per-day
    # path cost about ten queries a month, more with every household member.
    basis = burden_basis_load(person=person, days=[*month_list, today])
    states = []
    for month in month_list:
        state = person_state_from(basis=basis, on=month)
        states.append(MonthState(month, state.insured, state.copay, state.category))
    return EligibilitySummary(
        periods=basis.periods[person.pk],
        history=eligibility_history(person=person),
        number=insured_number_of(person=person),
        insurer_number=settings.KOKUHO_INSURER_NUMBER,
        months=states,
        notices=list(person.elig_notices.order_by("-created_at")),
        today=person_state_from(basis=basis, on=today),
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


def person_ids_by_insured_number(*, symbol: str, number: str, branch: str = "") -> list[int]:
    """Who was ever filed under a 記号・番号 (and 枝番, if given): the counter's search by the
    number on a 資格確認書. One index look-up (the unique 記号・番号), then its branches."""
    branches = BranchNumber.objects.filter(
        household_number__symbol=symbol, household_number__number=number
    )
    if branch:
        branches = branches.filter(branch=branch)
    return sorted(set(branches.values_list("person_id", flat=True)))


def insured_on_condition(*, on: dt.date) -> Exists:
    """A condition on `Person` rows: insured on `on` by their current version (the search's
    国保の被保険者のみ). Correlated, so each person a search found costs one index look-up
    (their current version's periods), never a scan of the city's periods."""
    return Exists(
        EligibilityPeriod.objects.filter(
            version_id=OuterRef("current_eligibility__version_id"), start__lte=on
        ).filter(Q(end__isnull=True) | Q(end__gte=on))
    )

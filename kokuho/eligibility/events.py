"""One entry point for every fact that can change eligibility (異動・届出).

The 住基異動 importer, the counter's 届出 screens and the scenario runner all build a
`ChangeEvent` and call `event_apply`, so they cannot drift apart. Event types are the
scenario vocabulary of scenarios.md (`move_in`, `employee_insurance_join` …).
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction

from kokuho.certificates.services import documents_reconcile
from kokuho.eligibility.derivation import Period
from kokuho.eligibility.models import EligibilityVersion, KeptKind
from kokuho.eligibility.selectors import eligibility_periods
from kokuho.eligibility.services import (
    EligibilityError,
    Recorded,
    UnknownHousehold,
    UnknownResident,
    coverage_end,
    coverage_start,
    eligibility_recompute_periods,
    kept_end_all,
    kept_start,
    late_report_check,
    numbers_ensure,
    numbers_needed,
)
from kokuho.people.models import ChangeCode, CoverageKind, Household, Person
from kokuho.people.registry import (
    ChangeContext,
    RegistryError,
    ResidentData,
    household_head_change,
    resident_arrive,
    resident_change_household,
    resident_depart,
    resident_relocate,
)


class ChangeType(StrEnum):
    MOVE_IN = "move_in"
    BIRTH = "birth"
    MOVE_OUT = "move_out"
    DEATH = "death"
    RELOCATION = "relocation"
    EMPLOYEE_INSURANCE_JOIN = "employee_insurance_join"
    EMPLOYEE_INSURANCE_LEAVE = "employee_insurance_leave"
    UNION_JOIN = "union_join"
    UNION_LEAVE = "union_leave"
    WELFARE_START = "welfare_start"
    WELFARE_END = "welfare_end"
    HEAD_CHANGE = "head_change"
    HOUSEHOLD_SPLIT = "household_split"
    HOUSEHOLD_JOIN = "household_join"
    FACILITY_MOVE_OUT = "facility_move_out"
    STUDENT_MOVE_OUT = "student_move_out"
    DISABILITY_LATE_ELDERLY = "disability_late_elderly"
    FOREIGN_SHORT_STAY = "foreign_short_stay"

    @property
    def label(self) -> str:
        return EVENT_LABELS[self]


EVENT_LABELS = {
    ChangeType.MOVE_IN: "転入",
    ChangeType.BIRTH: "出生",
    ChangeType.MOVE_OUT: "転出",
    ChangeType.DEATH: "死亡",
    ChangeType.RELOCATION: "転居",
    ChangeType.EMPLOYEE_INSURANCE_JOIN: "社会保険加入",
    ChangeType.EMPLOYEE_INSURANCE_LEAVE: "社会保険離脱",
    ChangeType.UNION_JOIN: "国保組合加入",
    ChangeType.UNION_LEAVE: "国保組合喪失",
    ChangeType.WELFARE_START: "生活保護開始",
    ChangeType.WELFARE_END: "生活保護廃止",
    ChangeType.HEAD_CHANGE: "世帯主変更",
    ChangeType.HOUSEHOLD_SPLIT: "世帯分離",
    ChangeType.HOUSEHOLD_JOIN: "世帯合併",
    ChangeType.FACILITY_MOVE_OUT: "住所地特例施設への転出",
    ChangeType.STUDENT_MOVE_OUT: "修学のための転出",
    ChangeType.DISABILITY_LATE_ELDERLY: "障害認定による後期高齢者医療加入",
    ChangeType.FOREIGN_SHORT_STAY: "短期在留による適用除外",
}

# Facts whose start and end are those of another scheme (types → coverage kind).
COVERAGE_STARTS = {
    ChangeType.EMPLOYEE_INSURANCE_JOIN: CoverageKind.EMPLOYEE_INSURANCE,
    ChangeType.UNION_JOIN: CoverageKind.UNION,
    ChangeType.WELFARE_START: CoverageKind.WELFARE,
    ChangeType.DISABILITY_LATE_ELDERLY: CoverageKind.LATE_ELDERLY_DISABILITY,
    ChangeType.FOREIGN_SHORT_STAY: CoverageKind.SHORT_STAY,
}
COVERAGE_ENDS = {
    ChangeType.EMPLOYEE_INSURANCE_LEAVE: CoverageKind.EMPLOYEE_INSURANCE,
    ChangeType.UNION_LEAVE: CoverageKind.UNION,
    ChangeType.WELFARE_END: CoverageKind.WELFARE,
}


@dataclass(frozen=True)
class ChangeEvent:
    """A fact as reported. `person` data is needed for 転入/出生 of someone new."""

    type: ChangeType
    date: dt.date
    reported_on: dt.date
    atena_no: str
    household_no: str = ""
    relation: str = ""
    resident: ResidentData | None = None
    abroad: bool = False
    special_address: bool = False
    new_head_atena_no: str = ""
    address: str = ""
    postal_code: str = ""
    source: str = ""
    code: ChangeCode | None = None  # the registry's own code when it says more (A03, B03)


@dataclass(frozen=True)
class EventResult:
    versions: list[EligibilityVersion]
    late: bool


def _person(atena_no: str) -> Person:
    person = Person.objects.filter(atena_no=atena_no).first()
    if person is None:
        raise UnknownResident(atena_no)
    return person


def event_apply(
    event: ChangeEvent,
    *,
    recorded_at: dt.datetime,
    actor: object | None,
    with_facts: tuple[ChangeEvent, ...] = (),
) -> EventResult:
    """Apply one fact in one transaction and recompute the eligibility it touches.

    `with_facts` are facts handed in together with a 転入/出生 (e.g. the 社保 the person has
    been in since before the move): they are applied before eligibility is decided, so a
    person who arrives already covered is never insured nor numbered.
    """
    with transaction.atomic(savepoint=False):
        touched: list[Person] = []
        late = False
        for fact in (event, *with_facts):
            ctx = ChangeContext(fact.date, fact.reported_on, recorded_at, fact.source, actor)
            recorded = Recorded(recorded_at, fact.reported_on, fact.date, fact.type.value, actor)
            try:
                people = _apply(fact, ctx, recorded)
            except RegistryError as error:
                raise EligibilityError(str(error)) from None
            touched += [p for p in people if p not in touched]
            late = late_report_check(person=people[0], recorded=recorded) or late
        recorded = Recorded(recorded_at, event.reported_on, event.date, event.type.value, actor)
        versions = []
        for person in touched:
            version, periods = eligibility_recompute_periods(person=person, recorded=recorded)
            if version is not None:
                versions.append(version)
            if numbers_needed(periods, event.date):
                numbers_ensure(person=person, on=event.date)
        # 証・通知: 資格喪失 invalidates the documents, a changed printed item reissues them.
        documents_reconcile(persons=touched, on=event.date, actor=actor)
    return EventResult(versions, late)


def _apply(event: ChangeEvent, ctx: ChangeContext, recorded: Recorded) -> list[Person]:
    kind = event.type
    if kind in (ChangeType.MOVE_IN, ChangeType.BIRTH):
        if event.resident is None:
            raise EligibilityError(f"{kind.label}: 住民の情報（氏名・生年月日等）が必要です")
        code = ChangeCode.BIRTH if kind == ChangeType.BIRTH else ChangeCode.MOVE_IN
        if event.code == ChangeCode.OFFICIAL_ENTRY:
            code = ChangeCode.OFFICIAL_ENTRY
        person = resident_arrive(
            data=event.resident,
            household_no=event.household_no,
            relation=event.relation,
            code=code,
            ctx=ctx,
        )
        if event.special_address:
            coverage_start(
                person=person,
                kind=CoverageKind.OTHER_MUNICIPALITY,
                start=event.date,
                recorded=recorded,
            )
        return [person]
    person = _person(event.atena_no)
    if kind in (ChangeType.MOVE_OUT, ChangeType.FACILITY_MOVE_OUT, ChangeType.STUDENT_MOVE_OUT):
        abroad = event.abroad and kind == ChangeType.MOVE_OUT
        depart_code = ChangeCode.MOVE_OUT
        if event.code == ChangeCode.OFFICIAL_DELETION and kind == ChangeType.MOVE_OUT:
            depart_code = ChangeCode.OFFICIAL_DELETION
        resident_depart(person=person, code=depart_code, abroad=abroad, ctx=ctx)
        if kind == ChangeType.FACILITY_MOVE_OUT:
            kept_start(person=person, kind=KeptKind.FACILITY, start=event.date, recorded=recorded)
        elif kind == ChangeType.STUDENT_MOVE_OUT:
            kept_start(person=person, kind=KeptKind.STUDENT, start=event.date, recorded=recorded)
    elif kind == ChangeType.DEATH:
        resident_depart(person=person, code=ChangeCode.DEATH, abroad=False, ctx=ctx)
        kept_end_all(person=person, last_day=event.date)
    elif kind == ChangeType.RELOCATION:
        resident_relocate(
            person=person, address=event.address, postal_code=event.postal_code, ctx=ctx
        )
    elif kind in COVERAGE_STARTS:
        coverage_start(
            person=person, kind=COVERAGE_STARTS[kind], start=event.date, recorded=recorded
        )
    elif kind in COVERAGE_ENDS:
        coverage_end(
            person=person, kind=COVERAGE_ENDS[kind], loss_date=event.date, recorded=recorded
        )
    elif kind == ChangeType.HEAD_CHANGE:
        household = Household.objects.filter(
            household_no=event.household_no or person.household.household_no
        ).first()
        if household is None:
            raise UnknownHousehold(event.household_no)
        new_head = _person(event.new_head_atena_no) if event.new_head_atena_no else person
        household_head_change(household=household, new_head=new_head, ctx=ctx)
        return [new_head]
    elif kind in (ChangeType.HOUSEHOLD_SPLIT, ChangeType.HOUSEHOLD_JOIN):
        code = (
            ChangeCode.HOUSEHOLD_SPLIT
            if kind == ChangeType.HOUSEHOLD_SPLIT
            else ChangeCode.HOUSEHOLD_JOIN
        )
        resident_change_household(
            person=person,
            household_no=event.household_no,
            relation=event.relation,
            code=code,
            ctx=ctx,
        )
    else:  # pragma: no cover - the enum is exhaustive
        raise EligibilityError(f"未対応の異動です: {kind}")
    return [person]


@dataclass(frozen=True)
class Consequence:
    """One line of a preview: 「山田 太郎: 資格喪失 2026-06-16 (社会保険加入)」."""

    atena_no: str
    name: str
    text: str


class _Rollback(Exception):
    """Carries the preview out of the transaction it rolls back (never escapes this module)."""

    def __init__(self, consequences: list[Consequence], late: bool) -> None:
        self.consequences, self.late = consequences, late


def consequences_between(before: list[Period], after: list[Period]) -> list[str]:
    """Describe what changed between two versions of a person's periods, in counter words."""
    from kokuho.eligibility.selectors import reason_label

    lines = []
    old_by_start = {p.start: p for p in before}
    new_starts = {p.start for p in after}
    for period in after:
        old = old_by_start.get(period.start)
        if old is None:
            lines.append(f"資格取得 {period.start.isoformat()}（{reason_label(period.acquired)}）")
        if period.end is not None and (old is None or old.end != period.end):
            loss = period.end + dt.timedelta(days=1)
            lines.append(f"資格喪失 {loss.isoformat()}（{reason_label(period.lost)}）")
        elif period.end is None and old is not None and old.end is not None:
            lines.append(f"資格喪失の取消（{period.start.isoformat()} からの資格が継続）")
    for period in before:
        if period.start not in new_starts:
            lines.append(f"{period.start.isoformat()} からの資格期間は取り消されます")
    return lines or ["資格に変更はありません"]


def event_preview(
    event: ChangeEvent, *, recorded_at: dt.datetime, actor: object | None
) -> tuple[list[Consequence], bool]:
    """What `event_apply` would do, computed by the real services and rolled back.

    Returns the consequences (資格取得・喪失 lines) and whether the report would be late.
    """
    subject = Person.objects.filter(atena_no=event.atena_no).first()
    before = eligibility_periods(person=subject) if subject else []
    try:
        with transaction.atomic():
            result = event_apply(event, recorded_at=recorded_at, actor=actor)
            person = Person.objects.get(atena_no=event.atena_no)
            lines = consequences_between(before, eligibility_periods(person=person))
            raise _Rollback(
                [Consequence(person.atena_no, person.name, t) for t in lines], result.late
            )
    except _Rollback as done:
        return done.consequences, done.late

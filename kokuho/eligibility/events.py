"""One entry point for every fact that can change eligibility (異動・届出).

The 住基異動 importer, the counter's 届出 screens and the scenario runner all build a
`ChangeEvent` and call `event_apply`, so they cannot drift apart. Event types are the
scenario vocabulary of scenarios.md (`move_in`, `employee_insurance_join` …).
"""

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.db import transaction

from kokuho.eligibility.models import EligibilityVersion, KeptKind
from kokuho.eligibility.selectors import eligibility_periods
from kokuho.eligibility.services import (
    EligibilityError,
    Recorded,
    coverage_end,
    coverage_start,
    eligibility_recompute,
    kept_end_all,
    kept_start,
    late_report_check,
    numbers_ensure,
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


class EventType(StrEnum):
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
    EventType.MOVE_IN: "転入",
    EventType.BIRTH: "出生",
    EventType.MOVE_OUT: "転出",
    EventType.DEATH: "死亡",
    EventType.RELOCATION: "転居",
    EventType.EMPLOYEE_INSURANCE_JOIN: "社会保険加入",
    EventType.EMPLOYEE_INSURANCE_LEAVE: "社会保険離脱",
    EventType.UNION_JOIN: "国保組合加入",
    EventType.UNION_LEAVE: "国保組合喪失",
    EventType.WELFARE_START: "生活保護開始",
    EventType.WELFARE_END: "生活保護廃止",
    EventType.HEAD_CHANGE: "世帯主変更",
    EventType.HOUSEHOLD_SPLIT: "世帯分離",
    EventType.HOUSEHOLD_JOIN: "世帯合併",
    EventType.FACILITY_MOVE_OUT: "住所地特例施設への転出",
    EventType.STUDENT_MOVE_OUT: "修学のための転出",
    EventType.DISABILITY_LATE_ELDERLY: "障害認定による後期高齢者医療加入",
    EventType.FOREIGN_SHORT_STAY: "短期在留による適用除外",
}

# Facts whose start and end are those of another scheme (types → coverage kind).
COVERAGE_STARTS = {
    EventType.EMPLOYEE_INSURANCE_JOIN: CoverageKind.EMPLOYEE_INSURANCE,
    EventType.UNION_JOIN: CoverageKind.UNION,
    EventType.WELFARE_START: CoverageKind.WELFARE,
    EventType.DISABILITY_LATE_ELDERLY: CoverageKind.LATE_ELDERLY_DISABILITY,
    EventType.FOREIGN_SHORT_STAY: CoverageKind.SHORT_STAY,
}
COVERAGE_ENDS = {
    EventType.EMPLOYEE_INSURANCE_LEAVE: CoverageKind.EMPLOYEE_INSURANCE,
    EventType.UNION_LEAVE: CoverageKind.UNION,
    EventType.WELFARE_END: CoverageKind.WELFARE,
}


@dataclass(frozen=True)
class ChangeEvent:
    """A fact as reported. `person` data is needed for 転入/出生 of someone new."""

    type: EventType
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


@dataclass(frozen=True)
class EventResult:
    versions: list[EligibilityVersion]
    late: bool


def _person(atena_no: str) -> Person:
    person = Person.objects.filter(atena_no=atena_no).first()
    if person is None:
        raise EligibilityError(f"宛名番号 {atena_no} の住民が見つかりません")
    return person


def event_apply(
    event: ChangeEvent, *, recorded_at: dt.datetime, actor: object | None
) -> EventResult:
    """Apply one fact in one transaction and recompute the eligibility it touches."""
    ctx = ChangeContext(event.date, event.reported_on, recorded_at, event.source, actor)
    recorded = Recorded(recorded_at, event.reported_on, event.date, event.type.value, actor)
    with transaction.atomic():
        try:
            touched = _apply(event, ctx, recorded)
        except RegistryError as error:
            raise EligibilityError(str(error)) from None
        versions = [v for p in touched if (v := eligibility_recompute(person=p, recorded=recorded))]
        for person in touched:
            person.refresh_from_db()
            if any(
                p.end is None or p.end >= event.date for p in eligibility_periods(person=person)
            ):
                # 記号・番号 follow the household the person is in from this date.
                numbers_ensure(person=person, on=event.date)
        late = late_report_check(person=touched[0], recorded=recorded) if touched else False
    return EventResult(versions, late)


def _apply(event: ChangeEvent, ctx: ChangeContext, recorded: Recorded) -> list[Person]:
    kind = event.type
    if kind in (EventType.MOVE_IN, EventType.BIRTH):
        if event.resident is None:
            raise EligibilityError(f"{kind.label}: 住民の情報（氏名・生年月日等）が必要です")
        code = ChangeCode.BIRTH if kind == EventType.BIRTH else ChangeCode.MOVE_IN
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
    if kind in (EventType.MOVE_OUT, EventType.FACILITY_MOVE_OUT, EventType.STUDENT_MOVE_OUT):
        abroad = event.abroad and kind == EventType.MOVE_OUT
        resident_depart(person=person, code=ChangeCode.MOVE_OUT, abroad=abroad, ctx=ctx)
        if kind == EventType.FACILITY_MOVE_OUT:
            kept_start(person=person, kind=KeptKind.FACILITY, start=event.date, recorded=recorded)
        elif kind == EventType.STUDENT_MOVE_OUT:
            kept_start(person=person, kind=KeptKind.STUDENT, start=event.date, recorded=recorded)
    elif kind == EventType.DEATH:
        resident_depart(person=person, code=ChangeCode.DEATH, abroad=False, ctx=ctx)
        kept_end_all(person=person, last_day=event.date)
    elif kind == EventType.RELOCATION:
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
    elif kind == EventType.HEAD_CHANGE:
        household = Household.objects.get(
            household_no=event.household_no or person.household.household_no
        )
        new_head = _person(event.new_head_atena_no) if event.new_head_atena_no else person
        household_head_change(household=household, new_head=new_head, ctx=ctx)
        return [new_head]
    elif kind in (EventType.HOUSEHOLD_SPLIT, EventType.HOUSEHOLD_JOIN):
        code = (
            ChangeCode.HOUSEHOLD_SPLIT
            if kind == EventType.HOUSEHOLD_SPLIT
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

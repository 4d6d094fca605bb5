"""Reads for the 高額療養費 screens: runs, a run's paid households with where each stands
(勧奨済 → 申請受付 → 決定済 → 支払済), one result with its invitation, application and
decision. Lists are a page of rows in a fixed number of queries, whatever the page size.

`kogaku_result_view` and `kogaku_households_shown` also record the access (the pages show
names and amounts): the house rule for reads that show personal data to staff.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Case, Exists, OuterRef, QuerySet, Value, When
from django.shortcuts import get_object_or_404

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.kogaku.explain import outcome_steps
from kokuho.benefits.kogaku.run import STEP_REASONS
from kokuho.benefits.kogaku.stored import result_outcome
from kokuho.benefits.kogaku.workflow import kogaku_current_run
from kokuho.benefits.models import (
    KOGAKU_RUN_OPEN,
    KogakuApplication,
    KogakuDecision,
    KogakuInvitation,
    KogakuPersonResult,
    KogakuResult,
    KogakuRun,
    KogakuSimplification,
)
from kokuho.core.purposes import Purpose
from kokuho.people.models import Person

RUNS_PER_PAGE = 20
HOUSEHOLDS_PER_PAGE = 50
DECISIONS_PER_PAGE = 100

# Where a paid household stands for its 診療月 (the furthest step reached).
STATUS_LABELS = {
    "paid": "支払済",
    "decided": "決定済",
    "applied": "申請受付",
    "invited": "勧奨済",
    "": "未処理",
}


def kogaku_runs_page(*, page: Any) -> Page:
    """Runs, newest 診療月 first (and the newest run of a month first)."""
    runs = KogakuRun.objects.select_related("requested_by__staff_profile").order_by(
        "-month", "-created_at", "-pk"
    )
    return Paginator(runs, RUNS_PER_PAGE).get_page(page)


def kogaku_open_run(*, month: dt.date) -> KogakuRun | None:
    """A run of the month still queued or running."""
    return KogakuRun.objects.filter(month=month.replace(day=1), status__in=KOGAKU_RUN_OPEN).first()


def _same_month(model: type, **extra: Any) -> Exists:
    return Exists(
        model.objects.filter(
            household_id=OuterRef("household_id"), month=OuterRef("month"), **extra
        )
    )


def _with_status(results: QuerySet[KogakuResult]) -> QuerySet[KogakuResult]:
    return results.annotate(
        status=Case(
            When(_same_month(KogakuDecision, paid_on__isnull=False), then=Value("paid")),
            When(_same_month(KogakuDecision), then=Value("decided")),
            When(_same_month(KogakuApplication), then=Value("applied")),
            When(_same_month(KogakuInvitation), then=Value("invited")),
            default=Value(""),
        )
    )


@dataclass(frozen=True)
class HouseholdRow:
    result: KogakuResult
    household_no: str
    head_name: str
    benefit: int
    many_times: bool
    reason: str
    status: str
    status_label: str


def kogaku_run_households_page(*, run: KogakuRun, page: Any) -> Page:
    """The households the run pays, by 世帯番号, with their status: one query for the page
    (and one count)."""
    results = _with_status(
        KogakuResult.objects.filter(run=run, benefit__gt=0)
        .select_related("household__head")
        .order_by("household__household_no")
    )
    found = Paginator(results, HOUSEHOLDS_PER_PAGE).get_page(page)
    found.object_list = [
        HouseholdRow(
            result=r,
            household_no=r.household.household_no,
            head_name=r.household.head.name if r.household.head else "",
            benefit=r.benefit,
            many_times=r.many_times,
            reason=STEP_REASONS.get(r.main_step, ""),
            status=r.status,
            status_label=STATUS_LABELS[r.status],
        )
        for r in found.object_list
    ]
    return found


@dataclass(frozen=True)
class ResultState:
    result: KogakuResult
    is_current: bool  # the household's result in the month's current run
    reason: str
    status: str
    status_label: str
    persons: list[KogakuPersonResult]
    steps: list[str]  # 計算明細 (none for a household the run does not pay)
    members: list[Person]  # who may be named as applicant
    invitation: KogakuInvitation | None
    application: KogakuApplication | None
    decision: KogakuDecision | None  # the standing one (the last of the month's chain)
    chain: list[KogakuDecision]  # the month's decisions in order: the first, its changes
    simplification: KogakuSimplification | None


def _result_state(result: KogakuResult) -> ResultState:
    household, month = result.household, result.month
    current = kogaku_current_run(month=month)
    status = _with_status(KogakuResult.objects.filter(pk=result.pk)).values_list(
        "status", flat=True
    )[0]
    persons = sorted(
        result.persons.select_related("person"),
        key=lambda p: (p.person.birth_date, p.person_id),
    )
    return ResultState(
        result=result,
        is_current=current is not None and current.pk == result.run_id,
        reason=STEP_REASONS.get(result.main_step, ""),
        status=status,
        status_label=STATUS_LABELS[status],
        persons=persons,
        steps=outcome_steps(result_outcome(result)) if result.explanation else [],
        members=list(
            Person.objects.filter(household=household, resident_until__isnull=True).order_by(
                "birth_date", "pk"
            )
        ),
        invitation=KogakuInvitation.objects.filter(household=household, month=month).first(),
        application=KogakuApplication.objects.filter(household=household, month=month)
        .select_related("applicant", "simplification")
        .first(),
        decision=KogakuDecision.objects.filter(
            household=household, month=month, replaced_by__isnull=True
        )
        .select_related("decided_by__staff_profile")
        .first(),
        chain=list(
            KogakuDecision.objects.filter(household=household, month=month).order_by(
                "created_at", "pk"
            )
        ),
        simplification=KogakuSimplification.objects.filter(
            household=household, withdrawn_on__isnull=True
        ).first(),
    )


def kogaku_result_view(*, result_id: int, actor: Any, screen: str) -> ResultState:
    """One household's result as the result page shows it; the access is recorded
    (世帯情報の閲覧, with the members shown)."""
    with transaction.atomic():
        result = get_object_or_404(
            KogakuResult.objects.select_related("run", "household__head", "household__nhi_number"),
            pk=result_id,
        )
        state = _result_state(result)
        shown = {p.person.atena_no for p in state.persons} | {m.atena_no for m in state.members}
        audit_event_record(
            event_type=EventType.HOUSEHOLD_VIEWED,
            actor=actor,
            subject_type=SubjectType.HOUSEHOLD,
            subject_id=result.household.household_no,
            purpose=Purpose.NHI_BENEFITS,
            extra={"screen": screen, "members_shown": sorted(shown)},
        )
    return state


def kogaku_decisions_page(*, decisions: QuerySet[KogakuDecision], page: Any) -> Page:
    """A page of decisions with their household and 世帯主 (two queries)."""
    rows = decisions.select_related("household__head")
    return Paginator(rows, DECISIONS_PER_PAGE).get_page(page)


def kogaku_households_shown(*, household_nos: list[str], actor: Any, screen: str) -> None:
    """A list page showed these households' 世帯主 and amounts: one access event."""
    if not household_nos:
        return
    audit_event_record(
        event_type=EventType.HOUSEHOLD_VIEWED,
        actor=actor,
        subject_type=SubjectType.SYSTEM,
        purpose=Purpose.NHI_BENEFITS,
        extra={"screen": screen, "households_shown": household_nos},
    )

"""Writes for eligibility: recompute a person's periods as a new version, numbers, facts."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.eligibility.derivation import Period, derive_periods, first_difference
from kokuho.eligibility.models import (
    BranchNumber,
    CurrentEligibility,
    EligibilityNotice,
    EligibilityPeriod,
    EligibilityVersion,
    HouseholdNumber,
    KeptInsured,
    KijunApplication,
    NoticeCode,
)
from kokuho.eligibility.selectors import (
    current_version,
    eligibility_periods,
    periods_of_version,
    person_facts,
)
from kokuho.people.models import CoverageKind, Household, OtherCoverage, Person
from kokuho.rules.params import parameters


class EligibilityError(ValueError):
    """A fact that cannot be applied as given (e.g. ending a coverage that never started)."""


@dataclass(frozen=True)
class Recorded:
    """When and how a fact reached us: the transaction-time side of the bitemporal record."""

    recorded_at: dt.datetime
    reported_on: dt.date
    fact_date: dt.date
    cause: str
    actor: object | None = None


def eligibility_recompute(
    *, person: Person, recorded: Recorded, as_of: dt.date | None = None
) -> EligibilityVersion | None:
    """Derive the person's periods from all facts known by `as_of` (default: the report
    date); store a new version if they changed. Age events count once their day has come."""
    return eligibility_recompute_periods(person=person, recorded=recorded, as_of=as_of)[0]


def eligibility_recompute_periods(
    *, person: Person, recorded: Recorded, as_of: dt.date | None = None
) -> tuple[EligibilityVersion | None, list[Period]]:
    """`eligibility_recompute`, also returning the person's periods after it."""
    as_of = as_of or max(recorded.fact_date, recorded.reported_on)
    facts = person_facts(person=person, as_of=as_of)
    periods = derive_periods(basis=facts.basis, exclusions=facts.exclusions)
    with transaction.atomic(savepoint=False):
        previous = current_version(person=person)
        old = periods_of_version(previous)
        if previous is not None and old == periods:
            return None, periods
        if previous is None and not periods:
            return None, periods
        changed_from = first_difference(old, periods)
        window = parameters().at(recorded.reported_on).eligibility.notification_days
        retroactive = changed_from is not None and (
            changed_from + dt.timedelta(days=window) < recorded.reported_on
        )
        version = EligibilityVersion.objects.create(
            person=person,
            seq=(previous.seq + 1) if previous else 1,
            recorded_at=recorded.recorded_at,
            cause=recorded.cause,
            fact_date=recorded.fact_date,
            reported_on=recorded.reported_on,
            changed_from=changed_from,
            is_retroactive=retroactive,
        )
        EligibilityPeriod.objects.bulk_create(
            EligibilityPeriod(
                version=version, start=p.start, end=p.end, acquired=p.acquired, lost=p.lost or ""
            )
            for p in periods
        )
        if previous is None:
            CurrentEligibility.objects.create(person=person, version=version)
        else:
            CurrentEligibility.objects.filter(person=person).update(version=version)
        if retroactive:
            notice_add(
                person=person,
                code=NoticeCode.RETROACTIVE,
                message=f"資格を {changed_from.isoformat()} に遡って変更しました"
                f"（{recorded.cause}）",
                recorded=recorded,
            )
        audit_event_record(
            event_type=EventType.ELIGIBILITY_CHANGED,
            actor=recorded.actor,
            subject_type=SubjectType.PERSON,
            subject_id=person.atena_no,
            extra={
                "version": version.seq,
                "cause": recorded.cause,
                "changed_from": changed_from.isoformat() if changed_from else None,
                "periods": [p.as_dict() for p in periods],
            },
        )
    return version, periods


def notice_add(*, person: Person, code: NoticeCode, message: str, recorded: Recorded) -> None:
    EligibilityNotice.objects.create(
        person=person,
        code=code,
        message=message,
        fact_date=recorded.fact_date,
        reported_on=recorded.reported_on,
        created_at=recorded.recorded_at,
    )


def late_report_check(*, person: Person, recorded: Recorded) -> bool:
    """届出は14日以内 (施行規則): a later report is accepted with a warning."""
    window = parameters().at(recorded.fact_date).eligibility.notification_days
    late_by = (recorded.reported_on - recorded.fact_date).days - window
    if late_by <= 0:
        return False
    notice_add(
        person=person,
        code=NoticeCode.LATE_REPORT,
        message=(
            f"届出が期限を{late_by}日過ぎています（事実発生日 {recorded.fact_date.isoformat()}、"
            f"届出日 {recorded.reported_on.isoformat()}）"
        ),
        recorded=recorded,
    )
    return True


def household_number_ensure(*, household: Household, on: dt.date) -> HouseholdNumber:
    """記号・番号: 記号 is the city's district code (one code until districts are configured),
    番号 a sequence within it."""
    existing = HouseholdNumber.objects.filter(household=household).first()
    if existing:
        return existing
    symbol = settings.KOKUHO_NUMBER_SYMBOL
    last = HouseholdNumber.objects.filter(symbol=symbol).aggregate(m=Max("number"))["m"]
    number = f"{int(last) + 1 if last else 1:06d}"
    return HouseholdNumber.objects.create(
        household=household, symbol=symbol, number=number, assigned_on=on
    )


def numbers_ensure(*, person: Person, on: dt.date) -> BranchNumber:
    """枝番: assigned in order from 01 within the 記号・番号, never reused for someone else; a
    person coming back to the same 記号・番号 gets their old 枝番."""
    mine = BranchNumber.objects.filter(
        person=person, household_number__household_id=person.household_id
    ).first()
    if mine:
        return mine
    household_number = household_number_ensure(household=person.household, on=on)
    last = household_number.branches.aggregate(m=Max("branch"))["m"]
    return BranchNumber.objects.create(
        household_number=household_number,
        person=person,
        branch=f"{int(last) + 1 if last else 1:02d}",
        assigned_on=on,
    )


def coverage_start(
    *, person: Person, kind: CoverageKind, start: dt.date, recorded: Recorded
) -> None:
    """Another scheme starts covering the person (社保加入, 保護開始, 組合加入 …)."""
    OtherCoverage.objects.create(
        person=person, kind=kind, start=start, end=None, recorded_at=recorded.recorded_at
    )


def coverage_end(
    *, person: Person, kind: CoverageKind, loss_date: dt.date, recorded: Recorded
) -> None:
    """The other scheme ends: `loss_date` is its 喪失日 / 廃止日, so it covered up to the day
    before. With no open record (the person was covered since before we knew it) the start
    is inferred: the day after their last NHI period ended, else the day their residence
    began — and a notice asks staff to confirm it."""
    end = loss_date - dt.timedelta(days=1)
    open_row = (
        OtherCoverage.objects.filter(person=person, kind=kind, end__isnull=True)
        .order_by("-start")
        .first()
    )
    if open_row is None:
        closed = [p.end for p in eligibility_periods(person=person) if p.end and p.end < end]
        start = max(closed) + dt.timedelta(days=1) if closed else person.resident_from
        start = min(start, end)
        OtherCoverage.objects.create(
            person=person, kind=kind, start=start, end=end, recorded_at=recorded.recorded_at
        )
        notice_add(
            person=person,
            code=NoticeCode.COVERAGE_START_INFERRED,
            message=f"{CoverageKind(kind).label} の開始日が未登録のため"
            f" {start.isoformat()} と推定しました",
            recorded=recorded,
        )
        return
    if end < open_row.start:
        raise EligibilityError(
            f"{CoverageKind(kind).label} の終了日 {loss_date} が開始日 {open_row.start} より前です"
        )
    open_row.end = end
    open_row.save(update_fields=["end"])


def kept_start(*, person: Person, kind: str, start: dt.date, recorded: Recorded) -> KeptInsured:
    """住所地特例 / 修学中の特例 begins on the day the person moves out."""
    return KeptInsured.objects.create(
        person=person, kind=kind, start=start, recorded_at=recorded.recorded_at
    )


def kept_end_all(*, person: Person, last_day: dt.date) -> None:
    KeptInsured.objects.filter(person=person, end__isnull=True, start__lte=last_day).update(
        end=last_day
    )


def kijun_apply(*, person: Person, applied_on: dt.date, recorded: Recorded) -> KijunApplication:
    """基準収入額適用申請: takes effect from the month after (burden.copay_rate)."""
    return KijunApplication.objects.create(
        person=person, applied_on=applied_on, recorded_at=recorded.recorded_at
    )


def period_reasons(periods: list[Period]) -> list[dict[str, str | None]]:
    return [p.as_dict() for p in periods]

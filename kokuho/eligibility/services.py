"""Writes for eligibility: recompute a person's periods as a new version, numbers, facts."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.eligibility.derivation import Period, derive_periods, first_difference
from kokuho.eligibility.listeners import periods_changed
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


class UnknownResident(EligibilityError):
    """The fact names a 宛名番号 we do not hold."""

    def __init__(self, atena_no: str) -> None:
        super().__init__(f"宛名番号 {atena_no} の住民が見つかりません")


class UnknownHousehold(EligibilityError):
    """The fact names a 世帯番号 we do not hold."""

    def __init__(self, household_no: str) -> None:
        super().__init__(f"世帯番号 {household_no} の世帯が見つかりません")


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


@dataclass(frozen=True)
class VersionPlan:
    """A new version to store: what changed, from when, and whether that is 遡及."""

    seq: int
    changed_from: dt.date | None
    retroactive: bool

    def notice_message(self, recorded: Recorded) -> str:
        assert self.changed_from is not None
        return f"資格を {self.changed_from.isoformat()} に遡って変更しました（{recorded.cause}）"

    def audit_extra(self, recorded: Recorded, periods: list[Period]) -> dict[str, object]:
        return {
            "version": self.seq,
            "cause": recorded.cause,
            "changed_from": self.changed_from.isoformat() if self.changed_from else None,
            "periods": [p.as_dict() for p in periods],
        }


def version_plan(
    *, previous_seq: int | None, old: list[Period], new: list[Period], recorded: Recorded
) -> VersionPlan | None:
    """Whether derived periods make a new version (None: nothing changed), and its terms.

    A change reaching further back than the notification window before the report is a
    retroactive correction (遡及訂正) and is flagged for staff."""
    if previous_seq is not None and old == new:
        return None
    if previous_seq is None and not new:
        return None
    changed_from = first_difference(old, new)
    window = parameters().at(recorded.reported_on).eligibility.notification_days
    retroactive = changed_from is not None and (
        changed_from + dt.timedelta(days=window) < recorded.reported_on
    )
    return VersionPlan((previous_seq or 0) + 1, changed_from, retroactive)


def recompute_as_of(recorded: Recorded, as_of: dt.date | None = None) -> dt.date:
    """Facts are taken as known on the later of the fact and its report (age events count
    once their day has come)."""
    return as_of or max(recorded.fact_date, recorded.reported_on)


def eligibility_recompute_periods(
    *, person: Person, recorded: Recorded, as_of: dt.date | None = None
) -> tuple[EligibilityVersion | None, list[Period]]:
    """`eligibility_recompute`, also returning the person's periods after it."""
    facts = person_facts(person=person, as_of=recompute_as_of(recorded, as_of))
    periods = derive_periods(basis=facts.basis, exclusions=facts.exclusions)
    with transaction.atomic(savepoint=False):
        previous = current_version(person=person)
        plan = version_plan(
            previous_seq=previous.seq if previous else None,
            old=periods_of_version(previous),
            new=periods,
            recorded=recorded,
        )
        if plan is None:
            return None, periods
        version = EligibilityVersion.objects.create(
            person=person,
            seq=plan.seq,
            recorded_at=recorded.recorded_at,
            cause=recorded.cause,
            fact_date=recorded.fact_date,
            reported_on=recorded.reported_on,
            changed_from=plan.changed_from,
            is_retroactive=plan.retroactive,
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
        if plan.changed_from is not None:
            periods_changed(person, plan.changed_from)
        if plan.retroactive:
            notice_add(
                person=person,
                code=NoticeCode.RETROACTIVE,
                message=plan.notice_message(recorded),
                recorded=recorded,
            )
        audit_event_record(
            event_type=EventType.ELIGIBILITY_CHANGED,
            actor=recorded.actor,
            subject_type=SubjectType.PERSON,
            subject_id=person.atena_no,
            extra=plan.audit_extra(recorded, periods),
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


def late_report_message(recorded: Recorded) -> str | None:
    """届出は14日以内 (施行規則): the warning for a later report, None when in time."""
    window = parameters().at(recorded.fact_date).eligibility.notification_days
    late_by = (recorded.reported_on - recorded.fact_date).days - window
    if late_by <= 0:
        return None
    return (
        f"届出が期限を{late_by}日過ぎています（事実発生日 {recorded.fact_date.isoformat()}、"
        f"届出日 {recorded.reported_on.isoformat()}）"
    )


def late_report_check(*, person: Person, recorded: Recorded) -> bool:
    """A late report is accepted with a warning (a notice for staff)."""
    message = late_report_message(recorded)
    if message is None:
        return False
    notice_add(person=person, code=NoticeCode.LATE_REPORT, message=message, recorded=recorded)
    return True


def household_number_ensure(*, household: Household, on: dt.date) -> HouseholdNumber:
    """記号・番号: 記号 is the city's district code (one code until districts are configured),
    番号 a sequence within it."""
    existing = HouseholdNumber.objects.filter(household=household).first()
    if existing:
        return existing
    symbol = settings.KOKUHO_NUMBER_SYMBOL
    last = HouseholdNumber.objects.filter(symbol=symbol).aggregate(m=Max("number"))["m"]
    return HouseholdNumber.objects.create(
        household=household, symbol=symbol, number=number_after(last), assigned_on=on
    )


def number_after(last: str | None) -> str:
    """The next 番号 within a 記号 (six digits)."""
    return f"{int(last) + 1 if last else 1:06d}"


def branch_after(last: str | None) -> str:
    """The next 枝番 within a 記号・番号 (two digits, from 01)."""
    return f"{int(last) + 1 if last else 1:02d}"


def numbers_needed(periods: list[Period], on: dt.date) -> bool:
    """記号・番号 follow the household the person is in from `on` while any period reaches it."""
    return any(p.end is None or p.end >= on for p in periods)


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
        household_number=household_number, person=person, branch=branch_after(last), assigned_on=on
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

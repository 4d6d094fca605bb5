"""The 高額療養費 notices' data, read from the models (`kokuho.benefits.notices` draws them).

* `decision_notice` / `invitation_notice` build the frozen dataclasses of one notice:
  addressee = the household's 世帯主 as the registry has them now, 記号・番号 from the
  household's `HouseholdNumber`, the members' counted co-payments and shares from the result,
  the 計算明細 as decided (decision) or as the run stored it (invitation), the account masked.
* `decision_notice_pdf` renders one decision's notice, and records that it was shown;
  `kogaku_invitations_print` renders a run's not-yet-printed invitations as one PDF and marks
  them printed in the same transaction — a PDF that cannot be drawn marks nothing.
"""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.kogaku.explain import outcome_steps
from kokuho.benefits.kogaku.stored import result_outcome
from kokuho.benefits.models import (
    DecisionKind,
    DecisionOutcome,
    KogakuApplication,
    KogakuDecision,
    KogakuInvitation,
    KogakuResult,
    KogakuRun,
)
from kokuho.benefits.notices import (
    DecisionNotice,
    InvitationNotice,
    NoticeAddressee,
    NoticePerson,
    decision_notices_pdf,
    invitation_notices_pdf,
)
from kokuho.core.purposes import Purpose
from kokuho.people.models import Household

# One click prints at most this many invitations (one PDF); the rest wait for the next click.
INVITATION_BATCH = 1000


def notice_apply_by(month: dt.date) -> dt.date:
    """申請期限: the 時効 of 国保法110条 runs two years from the 1st of the month after the
    診療月 (the first day counts: the period starts at midnight), so the last day is the day
    before the same date two years on — 2026-07 診療分 → 2028-07-31."""
    start = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return start.replace(year=start.year + 2) - dt.timedelta(days=1)


def notice_number(prefix: str, month: dt.date, pk: int) -> str:
    """`K202607-000012` (決定) or `KS202607-000034` (申請勧奨)."""
    return f"{prefix}{month:%Y%m}-{pk:06d}"


def _addressee(household: Household) -> NoticeAddressee:
    head = household.head
    if head is None:
        raise ValueError(f"世帯 {household.household_no} に世帯主が登録されていません")
    return NoticeAddressee(postal_code=head.postal_code, address=head.address, name=head.name)


def _symbol_number(household: Household) -> tuple[str, str]:
    number = getattr(household, "nhi_number", None)
    if number is None:
        raise ValueError(f"世帯 {household.household_no} に記号・番号がありません")
    return number.symbol, number.number


def _persons(result: KogakuResult) -> tuple[NoticePerson, ...]:
    return tuple(
        NoticePerson(name=p.person.name, counted_copay=p.counted_copay, benefit=p.benefit)
        for p in sorted(result.persons.all(), key=lambda p: (p.person.birth_date, p.person_id))
    )


def _with_notice_data(results: QuerySet[KogakuResult]) -> QuerySet[KogakuResult]:
    return results.select_related("household__head", "household__nhi_number").prefetch_related(
        "persons__person"
    )


def decision_notice(decision: KogakuDecision, *, issued_on: dt.date) -> DecisionNotice:
    result = _with_notice_data(KogakuResult.objects.filter(pk=decision.result_id)).get()
    symbol, number = _symbol_number(result.household)
    return DecisionNotice(
        notice_no=notice_number("K", decision.month, decision.pk),
        issued_on=issued_on,
        addressee=_addressee(result.household),
        insured_symbol=symbol,
        insured_number=number,
        service_month=decision.month,
        amount=decision.amount,
        decided_on=decision.decided_on,
        kind_label=decision.get_kind_display(),
        payee=decision.masked_account(),
        payment_due_on=None,  # 振込予定日: not scheduled by the system yet
        persons=_persons(result),
        steps=tuple(decision.steps),
    )


def invitation_notice(invitation: KogakuInvitation, *, issued_on: dt.date) -> InvitationNotice:
    """`invitation.result` should come with household, head, number and persons (see
    `_with_notice_data`); otherwise they are read one by one."""
    result = invitation.result
    symbol, number = _symbol_number(result.household)
    return InvitationNotice(
        notice_no=notice_number("KS", invitation.month, invitation.pk),
        issued_on=issued_on,
        addressee=_addressee(result.household),
        insured_symbol=symbol,
        insured_number=number,
        service_month=invitation.month,
        amount=result.benefit,
        apply_by=notice_apply_by(invitation.month),
        first_time=invitation.first_time,
        persons=_persons(result),
        steps=tuple(outcome_steps(result_outcome(result))),
    )


def _municipality() -> str:
    return settings.KOKUHO_MUNICIPALITY_NAME


def decision_notice_pdf(
    *, decision: KogakuDecision, actor: Any, on: dt.date | None = None
) -> bytes:
    """支給決定通知書 of one decision as PDF; showing it is recorded like opening the household.
    A 不支給 or 変更決定 has its own notice (`change_notice`). Raises ValueError (nothing
    recorded) when the notice cannot be drawn."""
    if decision.kind == DecisionKind.CHANGE or decision.outcome == DecisionOutcome.REFUSED:
        from kokuho.benefits.kogaku.change_notice import change_notice_pdf

        return change_notice_pdf(decision=decision, actor=actor, on=on)
    notice = decision_notice(decision, issued_on=on or timezone.localdate())
    content = decision_notices_pdf(
        [notice], municipality=_municipality(), prefecture=settings.KOKUHO_PREFECTURE_NAME
    )
    audit_event_record(
        event_type=EventType.HOUSEHOLD_VIEWED,
        actor=actor,
        subject_type=SubjectType.HOUSEHOLD,
        subject_id=decision.household.household_no,
        purpose=Purpose.NHI_BENEFITS,
        extra={"screen": "kogaku_decision_notice", "notice_no": notice.notice_no},
    )
    return content


def invitations_unprinted(*, run: KogakuRun) -> QuerySet[KogakuInvitation]:
    """The run's 申請勧奨 not printed yet, leaving out households that have applied or been
    decided for the month since (they need no reminder), by 世帯番号."""
    return (
        KogakuInvitation.objects.filter(result__run=run, printed_at__isnull=True)
        .exclude(
            Exists(
                KogakuApplication.objects.filter(
                    household_id=OuterRef("household_id"), month=OuterRef("month")
                )
            )
        )
        .exclude(
            Exists(
                KogakuDecision.objects.filter(
                    household_id=OuterRef("household_id"), month=OuterRef("month")
                )
            )
        )
        .order_by("household__household_no", "pk")
    )


@dataclass(frozen=True)
class PrintedInvitations:
    content: bytes
    count: int
    remaining: int
    file_name: str


def kogaku_invitations_print(
    *, run: KogakuRun, actor: Any, on: dt.date | None = None
) -> PrintedInvitations | None:
    """Up to `INVITATION_BATCH` of the run's unprinted 申請のお知らせ as one PDF, marked
    printed (`printed_at`) with one audit event; None when there is nothing to print."""
    on = on or timezone.localdate()
    with transaction.atomic():
        pending = invitations_unprinted(run=run)
        batch = list(
            pending.select_related(
                "result__household__head", "result__household__nhi_number"
            ).prefetch_related("result__persons__person")[:INVITATION_BATCH]
        )
        if not batch:
            return None
        notices = [invitation_notice(i, issued_on=on) for i in batch]
        content = invitation_notices_pdf(notices, municipality=_municipality())
        ids = [i.pk for i in batch]
        KogakuInvitation.objects.filter(pk__in=ids).update(printed_at=timezone.now())
        audit_event_record(
            event_type=EventType.HOUSEHOLD_VIEWED,
            actor=actor,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"kogaku:{run.month:%Y-%m}",
            purpose=Purpose.NHI_BENEFITS,
            extra={
                "screen": "kogaku_invitations_print",
                "run": run.pk,
                "households_shown": [i.result.household.household_no for i in batch],
            },
        )
        remaining = pending.count()
    return PrintedInvitations(
        content=content,
        count=len(batch),
        remaining=remaining,
        file_name=f"kogaku-kansho-{run.month:%Y%m}-{run.pk}.pdf",
    )

"""The cases' writers: open, add a step, claim the money back, record what comes in, close.

Every change of a case is one transaction with its step and its audit event; the counter
passes what it showed (`core.concurrency`: the version and a signed snapshot): a case changed
since is refused with what changed and who changed it, never overwritten — a batch's change
(claims added or withdrawn by detection) makes the clerk's page stale too. Amounts never go
negative nor above what was claimed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.cases.models import (
    CaseClaim,
    CaseKind,
    CaseOutcome,
    CaseStatus,
    CaseStep,
    InvestigationCase,
    RecoveryMethod,
    StepKind,
)
from kokuho.certificates.printing import batch_file_write
from kokuho.core.concurrency import EditSeen, edit_claim, edit_mark
from kokuho.core.dates import months_later
from kokuho.core.purposes import Purpose
from kokuho.people.models import Person
from kokuho.rules.params import parameters

# What each kind of case is worked for (the 事務 its reads and letters are audited under).
PURPOSES = {CaseKind.AFTER_LOSS: Purpose.NHI_BENEFITS}


class CaseError(ValueError):
    """A change the case cannot take; the message is the clerk's."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def _actor(actor: Any | None) -> Any | None:
    return actor if getattr(actor, "pk", None) else None


def case_audit(case: InvestigationCase, event: EventType, actor: Any | None, **extra: Any) -> None:
    audit_event_record(
        event_type=event,
        actor=actor,
        subject_type=SubjectType.PERSON,
        subject_id=case.person.atena_no,
        purpose=PURPOSES[CaseKind(case.kind)],
        extra={"case": case.pk, "kind": case.kind, **extra, **edit_mark(case)},
    )


def case_shown(case: InvestigationCase) -> dict[str, str]:
    """What a case's page shows of it (the snapshot a conflict is told against)."""
    return {
        "状態": case.get_status_display(),
        "回収の方法": case.get_method_display() if case.method else "",
        "請求額": f"{case.claimed_yen:,}円",
        "収納額": f"{case.recovered_yen:,}円",
        "納期限": case.due_on.isoformat() if case.due_on else "",
    }


def case_version_claim(case: InvestigationCase, seen: EditSeen | None) -> None:
    """Compare-and-set the case's version (`core.concurrency.edit_claim`; `seen` None: the
    version loaded) — a clerk's page of it is out of date from here."""
    edit_claim(
        instance=case,
        seen=seen,
        shown=case_shown,
        subject=(SubjectType.PERSON, case.person.atena_no),
    )


def case_open(
    *, kind: CaseKind, key: str, person: Person, source: str, actor: Any | None
) -> InvestigationCase:
    """A new case (or the one the same facts opened before: `key` is unique)."""
    with transaction.atomic():
        case, created = InvestigationCase.objects.get_or_create(
            key=key,
            defaults={
                "kind": kind,
                "person": person,
                "household_id": person.household_id,
                "opened_at": timezone.now(),
                "opened_by": _actor(actor),
                "source": source[:200],
            },
        )
        if created:
            case_step_add(case, kind=StepKind.OPENED, actor=actor, note=source[:400])
            case_audit(case, EventType.CASE_OPENED, actor, source=source[:200])
    return case


def case_step_add(
    case: InvestigationCase,
    *,
    kind: StepKind,
    actor: Any | None,
    note: str = "",
    on: dt.date | None = None,
    amount_yen: int | None = None,
) -> CaseStep:
    return CaseStep.objects.create(
        case=case,
        kind=kind,
        at=timezone.now(),
        by=_actor(actor),
        on=on,
        amount_yen=amount_yen,
        note=note[:400],
    )


def case_claimed_recount(case_id: int, *, arose_on: dt.date | None = None) -> InvestigationCase:
    """The case's 請求額 from its claims still in it. A case whose claims have all left it,
    with nothing received, is closed 返還不要; one that has received more than is now due
    keeps the received amount as claimed and says that the difference must be paid back
    (過誤納: the clerk refunds it)."""
    with transaction.atomic():
        case = (
            InvestigationCase.objects.select_for_update().select_related("person").get(pk=case_id)
        )
        case_version_claim(case, None)  # a clerk's page of the case is out of date from here
        total = (
            CaseClaim.objects.filter(case_id=case_id, withdrawn=False).aggregate(
                total=Sum("insurer_share_yen")
            )["total"]
            or 0
        )
        if arose_on is not None and (case.arose_on is None or arose_on < case.arose_on):
            case.arose_on = arose_on
        if total < case.recovered_yen:
            case_step_add(
                case,
                kind=StepKind.NOTE,
                actor=None,
                note=f"収納済み {case.recovered_yen:,}円が請求すべき額 {total:,}円を上回ります。"
                f"差額 {case.recovered_yen - total:,}円の還付が必要です",
            )
            total = case.recovered_yen
        case.claimed_yen = total
        case.save(update_fields=["claimed_yen", "arose_on"])
        if total == 0 and case.status != CaseStatus.CLOSED:
            _close(case, CaseOutcome.NOT_DUE, actor=None, note="対象のレセプトがなくなりました")
    return case


def _locked(case_id: int, seen: EditSeen | None) -> InvestigationCase:
    """The case, locked and claimed at the version the clerk saw (StaleEdit if it moved)."""
    case = InvestigationCase.objects.select_for_update().select_related("person").get(pk=case_id)
    case_version_claim(case, seen)
    if case.status == CaseStatus.CLOSED:
        raise CaseError("終結した案件です", code="case_closed")
    return case


def _save(case: InvestigationCase, *fields: str) -> None:
    case.save(update_fields=list(fields))  # the version was claimed by `_claim`


def limitation_expiry(case: InvestigationCase) -> dt.date | None:
    """The day the claim is time-barred (時効: the parameter's years from the day it arose)."""
    if case.arose_on is None:
        return None
    years = parameters().at(case.arose_on).cases.unjust_enrichment_limitation
    return months_later(case.arose_on, 12 * years)


def refund_claim_issue(
    *,
    case_id: int,
    issued_on: dt.date,
    due_on: dt.date,
    actor: Any,
    seen: EditSeen | None = None,
) -> InvestigationCase:
    """返還請求: the 納入通知 to the household for what is outstanding, payable by `due_on`."""
    with transaction.atomic():
        case = _locked(case_id, seen)
        if case.outstanding_yen <= 0:
            raise CaseError("請求する額がありません", code="nothing_due")
        if due_on < issued_on:
            raise CaseError("納期限が発行日より前です", code="due_before_issue")
        if case.method == RecoveryMethod.INSURER_ADJUSTMENT:
            raise CaseError(
                "保険者間調整の同意を受けた案件です（返還請求に切り替えるには同意の取下げを記録）",
                code="adjustment_consented",
            )
        from kokuho.cases.notice import refund_notice, refund_notices_pdf

        try:
            letter, slip = refund_notice(case, issued_on=issued_on, due_on=due_on)
            content = refund_notices_pdf([letter])
        except ValueError as refused:
            message = f"返還金の納入通知を作成できません: {refused}"
            raise CaseError(message, code="unprintable") from refused
        path, digest = batch_file_write(
            settings.KOKUHO_DOCUMENT_DIR / "cases", f"{slip.notice_no}.pdf", content
        )
        case.method = RecoveryMethod.REFUND_CLAIM
        case.status = CaseStatus.IN_PROGRESS
        case.due_on = due_on
        notices = [*case.detail.get("notices", []), {**slip.as_dict(), "path": str(path),
                                                      "sha256": digest}]  # fmt: skip
        case.detail = {**case.detail, "notices": notices}
        _save(case, "method", "status", "due_on", "detail")
        case_step_add(
            case,
            kind=StepKind.NOTICE_ISSUED,
            actor=actor,
            on=issued_on,
            amount_yen=slip.amount_yen,
            note=f"通知番号 {slip.notice_no}・納期限 {due_on.isoformat()}",
        )
        case_audit(
            case, EventType.CASE_STEP, actor, step="notice_issued", amount=slip.amount_yen,
            notice=slip.notice_no,
        )  # fmt: skip
    return case


def instalments_agree(
    *, case_id: int, count: int, first_due: dt.date, actor: Any, seen: EditSeen | None = None
) -> list[tuple[dt.date, int]]:
    """分割納付: what is outstanding in `count` monthly instalments from `first_due` (the
    remainder of the division in the first). Returns the schedule."""
    if not 2 <= count <= 120:
        raise CaseError("分割の回数は2回から120回までです", code="bad_instalments")
    with transaction.atomic():
        case = _locked(case_id, seen)
        if case.method != RecoveryMethod.REFUND_CLAIM:
            raise CaseError("返還請求をした案件だけが分割できます", code="not_claimed")
        outstanding = case.outstanding_yen
        if outstanding < count:
            raise CaseError("分割の回数が多すぎます（1回1円未満）", code="bad_instalments")
        share, rest = divmod(outstanding, count)
        schedule = [
            (months_later(first_due, i), share + (rest if i == 0 else 0)) for i in range(count)
        ]
        case.detail = {
            **case.detail,
            "instalments": [{"due": d.isoformat(), "amount": a} for d, a in schedule],
        }
        case.due_on = schedule[-1][0]
        _save(case, "detail", "due_on")
        case_step_add(
            case,
            kind=StepKind.INSTALMENTS_AGREED,
            actor=actor,
            on=first_due,
            amount_yen=outstanding,
            note=f"{count}回（初回 {schedule[0][1]:,}円、以降 {share:,}円）",
        )
        case_audit(case, EventType.CASE_STEP, actor, step="instalments_agreed", count=count)
    return schedule


def receipt_record(
    *,
    case_id: int,
    amount_yen: int,
    received_on: dt.date,
    actor: Any,
    note: str = "",
    seen: EditSeen | None = None,
) -> InvestigationCase:
    """収納 (消込): money received for the case. Never more than is outstanding; the case
    ends when nothing is — 返還済み, or 保険者間調整により精算 when the new insurer paid."""
    with transaction.atomic():
        case = _locked(case_id, seen)
        if amount_yen <= 0:
            raise CaseError("収納額は1円以上です", code="bad_amount")
        if amount_yen > case.outstanding_yen:
            raise CaseError(
                f"収納額 {amount_yen:,}円が未収額 {case.outstanding_yen:,}円を超えています",
                code="over_outstanding",
            )
        case.recovered_yen += amount_yen
        _save(case, "recovered_yen")
        case_step_add(
            case,
            kind=StepKind.RECEIVED,
            actor=actor,
            on=received_on,
            amount_yen=amount_yen,
            note=note,
        )
        case_audit(case, EventType.CASE_STEP, actor, step="received", amount=amount_yen)
        if case.outstanding_yen == 0:
            outcome = (
                CaseOutcome.ADJUSTED
                if case.method == RecoveryMethod.INSURER_ADJUSTMENT
                else CaseOutcome.RECOVERED
            )
            _close(case, outcome, actor=actor, note="未収額がなくなりました")
    return case


def adjustment_consent_record(
    *,
    case_id: int,
    new_insurer_no: str,
    consented_on: dt.date,
    actor: Any,
    seen: EditSeen | None = None,
) -> InvestigationCase:
    """保険者間調整: the person's consent (同意書) that the new insurer pays us what it owes
    them for the same claims, through the 国保連合会; the person then settles with it."""
    if not (new_insurer_no.isdigit() and len(new_insurer_no) in (6, 8)):
        raise CaseError("新しい保険者の保険者番号は6桁または8桁の数字です", code="bad_insurer")
    with transaction.atomic():
        case = _locked(case_id, seen)
        if case.recovered_yen:
            raise CaseError(
                "収納のある案件は保険者間調整にできません（残額は返還請求で）",
                code="partly_received",
            )
        case.method = RecoveryMethod.INSURER_ADJUSTMENT
        case.status = CaseStatus.IN_PROGRESS
        case.detail = {**case.detail, "new_insurer_no": new_insurer_no}
        _save(case, "method", "status", "detail")
        case_step_add(
            case,
            kind=StepKind.CONSENT_RECEIVED,
            actor=actor,
            on=consented_on,
            amount_yen=case.outstanding_yen,
            note=f"新保険者 {new_insurer_no}",
        )
        case_audit(case, EventType.CASE_STEP, actor, step="consent_received")
    return case


def case_close(
    *, case_id: int, outcome: CaseOutcome, on: dt.date, actor: Any, note: str,
    seen: EditSeen | None = None,
) -> InvestigationCase:  # fmt: skip
    """Close a case by a clerk's decision: 返還不要 with its reason, or 時効 once the claim is
    time-barred. (返還済み and 精算 close by themselves when the money is in.)"""
    if not note.strip():
        raise CaseError("終結の理由を入力してください", code="reason_required")
    with transaction.atomic():
        case = _locked(case_id, seen)
        if outcome == CaseOutcome.TIME_BARRED:
            expiry = limitation_expiry(case)
            if expiry is None or on < expiry:
                until = expiry.isoformat() if expiry else "起算日不明"
                raise CaseError(
                    f"時効はまだ完成していません（{until}）",
                    code="not_time_barred",
                )
        elif outcome != CaseOutcome.NOT_DUE:
            raise CaseError("この結果は収納の記録で終結します", code="bad_outcome")
        _close(case, outcome, actor=actor, note=note)
    return case


def _close(case: InvestigationCase, outcome: CaseOutcome, *, actor: Any | None, note: str) -> None:
    case.status = CaseStatus.CLOSED
    case.outcome = outcome
    case.closed_at = timezone.now()
    _save(case, "status", "outcome", "closed_at")
    case_step_add(case, kind=StepKind.CLOSED, actor=actor, note=f"{outcome.label}: {note}")
    case_audit(case, EventType.CASE_CLOSED, actor, outcome=outcome.value)

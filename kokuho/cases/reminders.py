"""督促 (reminders) of the 返還請求: a household that has not paid by the 納期限 — or missed an
instalment of its 分割 — is reminded by letter with a new 指定期限 (地方自治法施行令171条:
the city must remind, naming a date; the days are the city's, `cases.reminder_due_days`).

`reminders_issue(on=…)` finds the cases overdue on `on` in one query, writes one PDF of
督促状 (`core.letters`, each from a new page) under `KOKUHO_DOCUMENT_DIR/cases/`, and records
a step and an audit event per case, in one transaction with the file written first. A case
is reminded once per missed date: run again the same day, or the next, it finds nothing
new until another date is missed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from kokuho.audit.models import EventType
from kokuho.cases.models import CaseStatus, InvestigationCase, RecoveryMethod, StepKind
from kokuho.cases.services import case_audit, case_step_add, case_version_claim
from kokuho.certificates.glyphs import printable
from kokuho.certificates.printing import batch_file_write
from kokuho.core.letters import Centred, Letter, LetterAddressee, Paragraph, letters_pdf
from kokuho.core.wareki import format_wareki
from kokuho.rules.params import parameters

TITLE = "国民健康保険 返還金の督促状"


@dataclass(frozen=True)
class Overdue:
    """One case past a date it should have been paid by: which date, and what was due by it
    and is still unpaid."""

    case: InvestigationCase
    missed: dt.date
    unpaid_yen: int


def _missed(case: InvestigationCase, on: dt.date) -> tuple[dt.date, int] | None:
    """The latest date before `on` by which more was due than has been received, and how
    much of it is unpaid — from the instalments when there is a 分割, else the 納期限."""
    schedule = [
        (dt.date.fromisoformat(i["due"]), int(i["amount"]))
        for i in case.detail.get("instalments", [])
    ]
    if not schedule and case.due_on is not None:
        schedule = [(case.due_on, case.claimed_yen)]
    owed, missed = 0, None
    for due, amount in schedule:
        if due >= on:
            break
        owed += amount
        if owed > case.recovered_yen:
            missed = due
    if missed is None:
        return None
    return missed, min(owed, case.claimed_yen) - case.recovered_yen


def cases_overdue(*, on: dt.date) -> list[Overdue]:
    """Cases claimed back by letter, not closed, with a date missed before `on` and no
    reminder for that date yet."""
    found = []
    rows = InvestigationCase.objects.filter(
        method=RecoveryMethod.REFUND_CLAIM, status=CaseStatus.IN_PROGRESS
    ).select_related("person__household__head")
    for case in rows.order_by("pk"):
        missed = _missed(case, on)
        if missed is None:
            continue
        reminded = {r.get("missed") for r in case.detail.get("reminders", [])}
        if missed[0].isoformat() in reminded:
            continue
        found.append(Overdue(case, *missed))
    return found


def _letter(overdue: Overdue, *, on: dt.date, until: dt.date, number: str) -> Letter:
    case = overdue.case
    person = case.person
    addressee = person.household.head if person.household and person.household.head else person
    notice = (case.detail.get("notices") or [{}])[-1]
    blocks = (
        Paragraph(
            f"　{format_wareki(overdue.missed)}までに納付していただくことになっていた国民健康"
            "保険の返還金（資格喪失後の受診に係る保険者負担分）について、納付が確認できません。"
            f"下記の金額を{format_wareki(until)}までに納付してください（地方自治法施行令"
            "第171条）。"
        ),
        Paragraph(
            "　この督促状と行き違いに納付された場合は、ご容赦ください。納付が難しい場合は、"
            "下記の問い合わせ先へご相談ください。"
        ),
        Centred("記"),
        Paragraph(f"納付していただく金額　{overdue.unpaid_yen:,}円"),
        Paragraph(f"指定期限　{format_wareki(until)}"),
        Paragraph(f"返還金の通知番号　{notice.get('notice_no', '—')}"),
        Paragraph(f"未納の返還金の総額　{case.outstanding_yen:,}円"),
    )
    return Letter(
        number=f"督促番号　{number}",
        issued_on=on,
        addressee=LetterAddressee(
            postal_code=addressee.postal_code,
            address=printable(addressee.address)[0],
            name=printable(addressee.name)[0],
        ),
        title=TITLE,
        blocks=blocks,
    )


def reminders_issue(*, on: dt.date, actor: Any) -> tuple[int, str]:
    """The 督促状 of the cases overdue on `on`: (how many, the PDF's path or "")."""
    days = parameters().at(on).cases.reminder_due_days
    until = on + dt.timedelta(days=days)
    with transaction.atomic():
        due = cases_overdue(on=on)
        if not due:
            return 0, ""
        numbers = [f"TS{on:%Y%m%d}-{d.case.pk:07d}" for d in due]
        letters = [
            _letter(d, on=on, until=until, number=n) for d, n in zip(due, numbers, strict=True)
        ]
        content = letters_pdf(
            letters,
            title=TITLE,
            municipality=settings.KOKUHO_MUNICIPALITY_NAME,
            contact=settings.KOKUHO_INSURER_CONTACT,
        )
        path, digest = batch_file_write(
            settings.KOKUHO_DOCUMENT_DIR / "cases", f"reminders-{on:%Y%m%d}.pdf", content
        )
        for overdue, number in zip(due, numbers, strict=True):
            case = (
                InvestigationCase.objects.select_for_update()
                .select_related("person")
                .get(pk=overdue.case.pk)
            )
            case_version_claim(case, None)
            reminder = {
                "number": number,
                "missed": overdue.missed.isoformat(),
                "unpaid_yen": overdue.unpaid_yen,
                "until": until.isoformat(),
                "path": str(path),
                "sha256": digest,
            }
            case.detail = {
                **case.detail,
                "reminders": [*case.detail.get("reminders", []), reminder],
            }
            case.version += 1  # a clerk's page of the case is out of date
            case.save(update_fields=["detail", "version"])
            case_step_add(
                case,
                kind=StepKind.REMINDER_ISSUED,
                actor=actor,
                on=on,
                amount_yen=overdue.unpaid_yen,
                note=f"督促番号 {number}・{overdue.missed.isoformat()} 納期限分"
                f"・指定期限 {until.isoformat()}",
            )
            case_audit(case, EventType.CASE_STEP, actor, step="reminder_issued", reminder=number)
    return len(due), str(path)

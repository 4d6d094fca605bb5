"""自己点検 services: run the month (store the snapshot) and the 所属長's sign-off."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils import timezone

from kokuho.accounts.permissions import Perm
from kokuho.audit.inspection.findings import (
    inspection_findings,
)
from kokuho.audit.inspection.rules import (
    SCHEMA_VERSION,
    ChecklistAnswer,
    ChecklistItem,
    inspection_rules,
    inspection_window,
    month_first,
)
from kokuho.audit.models import EventType, SelfInspection, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.wareki import format_wareki
from kokuho.rules.params import ParameterError

# --- Services ------------------------------------------------------------------------------


class SelfInspectionErrorCode(StrEnum):
    NOT_PERMITTED = "not_permitted"
    IN_FUTURE = "in_future"
    NO_RULES = "no_rules"
    ALREADY_SIGNED = "already_signed"
    SIGNER_IS_RUNNER = "signer_is_runner"
    SUPERSEDED = "superseded"
    CHECKLIST_INCOMPLETE = "checklist_incomplete"
    NOTE_REQUIRED = "note_required"


class SelfInspectionError(ValueError):
    """A run or sign-off the self-inspection refuses; `code` for programs, the message for
    staff."""

    def __init__(self, code: SelfInspectionErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def month_label(month: dt.date) -> str:
    """令和7年6月 (the 和暦 month)."""
    return format_wareki(month_first(month)).removesuffix("1日")


def _user(actor: Any | None) -> Any | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def self_inspection_run(*, month: dt.date, actor: Any | None) -> SelfInspection:
    """自己点検の実施: compute the month's findings and store them as a new snapshot (a
    re-run keeps the earlier ones). `actor` None is the system (a scheduled run)."""
    user = _user(actor)
    if user is not None and not user.has_perm(Perm.SELF_INSPECTION):
        raise SelfInspectionError(
            SelfInspectionErrorCode.NOT_PERMITTED, "自己点検を実施する権限がありません。"
        )
    today = timezone.localdate()
    first = month_first(month)
    if first > month_first(today):
        raise SelfInspectionError(
            SelfInspectionErrorCode.IN_FUTURE, f"{month_label(first)}はまだ始まっていません。"
        )
    try:
        rules = inspection_rules(month=first)
    except ParameterError:
        raise SelfInspectionError(
            SelfInspectionErrorCode.NO_RULES,
            f"{month_label(first)}に適用される点検基準がありません。",
        ) from None
    window = inspection_window(month=first, today=today)
    result = inspection_findings(window=window, rules=rules)
    with transaction.atomic():
        inspection = SelfInspection.objects.create(
            month=first,
            run_at=timezone.now(),
            run_by=user,
            schema_version=SCHEMA_VERSION,
            findings=result.snapshot(),
            counts=result.counts,
        )
        audit_event_record(
            event_type=EventType.SELF_INSPECTION_RUN,
            actor=user,
            subject_type=SubjectType.INSPECTION,
            subject_id=str(inspection.pk),
            extra={
                "month": first.strftime("%Y-%m"),
                "counts": result.counts,
                "events": sum(e.count for e in result.events),
            },
        )
    return inspection


def _checklist_clean(checklist: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, str]]:
    answers: dict[str, dict[str, str]] = {}
    missing = []
    for item in ChecklistItem:
        given = checklist.get(item.value) or {}
        try:
            answer = ChecklistAnswer(given.get("answer", ""))
        except ValueError:
            missing.append(item.label)
            continue
        note = str(given.get("note", "")).strip()
        if answer is ChecklistAnswer.ACTION and not note:
            raise SelfInspectionError(
                SelfInspectionErrorCode.NOTE_REQUIRED,
                f"「{item.label}」は要対応です。対応の内容を入力してください。",
            )
        answers[item.value] = {"answer": answer.value, "note": note[:1000]}
    if missing:
        raise SelfInspectionError(
            SelfInspectionErrorCode.CHECKLIST_INCOMPLETE,
            "すべての点検項目に回答してください（未回答: " + "、".join(missing) + "）。",
        )
    return answers


def self_inspection_sign_off(
    *,
    inspection: SelfInspection,
    actor: Any,
    checklist: Mapping[str, Mapping[str, str]],
    comment: str,
) -> SelfInspection:
    """所属長の確認: every 点検項目 answered (要対応 with a note), by someone else than who
    ran it, once, on the newest run of the month."""
    if _user(actor) is None or not actor.has_perm(Perm.SELF_INSPECTION_SIGN_OFF):
        raise SelfInspectionError(
            SelfInspectionErrorCode.NOT_PERMITTED, "自己点検を確認する権限がありません。"
        )
    with transaction.atomic():
        locked = SelfInspection.objects.select_for_update().get(pk=inspection.pk)
        if locked.signed_at is not None:
            raise SelfInspectionError(
                SelfInspectionErrorCode.ALREADY_SIGNED, "この自己点検は確認済みです。"
            )
        if locked.run_by_id == actor.pk:
            raise SelfInspectionError(
                SelfInspectionErrorCode.SIGNER_IS_RUNNER,
                "自己点検を実施した職員は、その結果を確認できません。",
            )
        newer = SelfInspection.objects.filter(month=locked.month, run_at__gt=locked.run_at)
        if newer.exists():
            raise SelfInspectionError(
                SelfInspectionErrorCode.SUPERSEDED,
                "この月にはより新しい点検結果があります。最新の結果を確認してください。",
            )
        answers = _checklist_clean(checklist)
        locked.signed_at = timezone.now()
        locked.signed_by = actor
        locked.checklist = answers
        locked.comment = comment.strip()
        locked.save(update_fields=["signed_at", "signed_by", "checklist", "comment"])
        audit_event_record(
            event_type=EventType.SELF_INSPECTION_SIGNED,
            actor=actor,
            subject_type=SubjectType.INSPECTION,
            subject_id=str(locked.pk),
            extra={
                "month": locked.month.strftime("%Y-%m"),
                "items": len(answers),
                "action_items": sum(
                    a["answer"] == ChecklistAnswer.ACTION for a in answers.values()
                ),
            },
        )
    return locked


# --- Reading stored inspections ------------------------------------------------------------


@dataclass(frozen=True)
class InspectionMonth:
    """One month of the list: its newest run, how many runs, how many findings."""

    inspection: SelfInspection
    runs: int

    @property
    def label(self) -> str:
        return month_label(self.inspection.month)

    @property
    def findings_total(self) -> int:
        return sum(int(n) for n in self.inspection.counts.values())


def self_inspections_by_month() -> list[InspectionMonth]:
    """The newest run of each month, newest month first, with how many runs it has."""
    runs = SelfInspection.objects.select_related(
        "run_by__staff_profile", "signed_by__staff_profile"
    ).order_by("-month", "-run_at", "-pk")
    newest: dict[dt.date, SelfInspection] = {}
    count: dict[dt.date, int] = defaultdict(int)
    for run in runs:
        newest.setdefault(run.month, run)
        count[run.month] += 1
    return [InspectionMonth(run, count[month]) for month, run in newest.items()]


def self_inspection_runs(*, month: dt.date) -> list[SelfInspection]:
    """Every run of the month, newest first (the history the screen lists)."""
    return list(
        SelfInspection.objects.filter(month=month_first(month))
        .select_related("run_by__staff_profile", "signed_by__staff_profile")
        .order_by("-run_at", "-pk")
    )

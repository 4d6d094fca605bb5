"""Writes of the interfaces app: import a file, re-submit or discard a quarantined row.

The CLI (`kokuho import …`) and the screens call these; the rules common to every format
live in `kokuho.interfaces.importer`, each format's layout and mapping in its own module.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.purposes import Purpose
from kokuho.interfaces import claims, income, myna, residents_changes
from kokuho.interfaces.importer import (
    ROW_ERRORS,
    ApplyContext,
    Importer,
    ImportSummary,
    ProgressCallback,
    conflict_reason,
    file_import,
)
from kokuho.interfaces.layout import FieldError, ImportRejected, row_hash
from kokuho.interfaces.models import (
    ImportedRecord,
    ImportErrorCode,
    ImportKind,
    QuarantinedRow,
    QuarantineStatus,
)

__all__ = [
    "ImportRejected",
    "ImportSummary",
    "QuarantineError",
    "ResubmitOutcome",
    "ResubmitStatus",
    "import_claims",
    "import_income",
    "import_myna_status",
    "import_residents_changes",
    "quarantine_discard",
    "quarantine_resubmit",
]

IMPORTERS: dict[ImportKind, Importer] = {
    ImportKind.RESIDENTS_CHANGES: residents_changes.IMPORTER,
    ImportKind.INCOME: income.IMPORTER,
    ImportKind.CLAIMS: claims.IMPORTER,
    ImportKind.MYNA_STATUS: myna.IMPORTER,
}


def import_residents_changes(
    *,
    path: Path,
    actor: Any | None,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
) -> ImportSummary:
    """住基異動ファイルの取込. Raises `ImportRejected` when the file cannot be read at all."""
    return file_import(
        residents_changes.IMPORTER,
        path=Path(path),
        actor=actor,
        progress=progress,
        on_progress=on_progress,
    )


def import_income(
    *,
    path: Path,
    actor: Any | None,
    progress: bool = False,
    reported_on: dt.date | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportSummary:
    """所得ファイルの取込. `reported_on` (default today) dates the 更正 of a year already held."""
    return file_import(
        income.IMPORTER,
        path=Path(path),
        actor=actor,
        progress=progress,
        reported_on=reported_on,
        on_progress=on_progress,
    )


def import_claims(
    *,
    path: Path,
    actor: Any | None,
    progress: bool = False,
    reported_on: dt.date | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportSummary:
    """レセプト（月次）ファイルの取込. Claims that match no insured person of their month are
    kept and reported in the summary (`reported`), not quarantined. `reported_on` (default
    today) is the day of receipt: a 診療年月 after its month is refused."""
    return file_import(
        claims.IMPORTER,
        path=Path(path),
        actor=actor,
        progress=progress,
        reported_on=reported_on,
        on_progress=on_progress,
    )


def import_myna_status(
    *,
    path: Path,
    actor: Any | None,
    progress: bool = False,
    reported_on: dt.date | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportSummary:
    """マイナ保険証の利用登録状況ファイルの取込. A 基準日 older than the recorded one is taken
    but not applied (reported in the summary, not quarantined); `reported_on` (default
    today) is the day of receipt: a 基準日 after it is refused."""
    return file_import(
        myna.IMPORTER,
        path=Path(path),
        actor=actor,
        progress=progress,
        reported_on=reported_on,
        on_progress=on_progress,
    )


class QuarantineError(ValueError):
    """The re-submission or discard itself is impossible (row already handled, bad field)."""


class ResubmitStatus(StrEnum):
    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"
    INVALID = "invalid"


@dataclass(frozen=True)
class ResubmitOutcome:
    """What became of a corrected row: applied, identical to what was applied, or still
    invalid (`errors`, the row stays open)."""

    status: ResubmitStatus
    errors: list[FieldError] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return self.status == ResubmitStatus.APPLIED

    def message(self) -> str:
        if self.status == ResubmitStatus.APPLIED:
            return "修正した内容を反映しました。"
        if self.status == ResubmitStatus.ALREADY_APPLIED:
            return "同じ内容が既に反映されています。保留を解除しました。"
        return "\n".join(f"{e.field or '（行全体）'}: {e.reason}" for e in self.errors)


def _user(actor: Any | None) -> Any | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def quarantine_resubmit(
    *,
    row: QuarantinedRow,
    corrected: Mapping[str, str],
    actor: Any | None,
    reported_on: dt.date | None = None,
) -> ResubmitOutcome:
    """Re-validate the row with staff's corrections (field → text) and apply it through the
    same services and ledger as the file; mark it re-submitted when done."""
    importer = IMPORTERS[ImportKind(row.kind)]
    layout = importer.layout
    unknown = sorted(set(corrected) - set(layout.names))
    if unknown:
        raise QuarantineError(f"{layout.title}の様式にない項目です: {', '.join(unknown)}")
    raw = {name: row.raw.get(name, "") for name in layout.names}
    raw.update({name: value.strip() for name, value in corrected.items()})
    read = layout.validate(raw, line=row.line)
    record_id = raw[layout.id_column]
    digest = row_hash(raw, layout.names)
    user = _user(actor)
    with transaction.atomic():
        # Locked so that two clerks re-submitting the same row cannot both apply it.
        locked = QuarantinedRow.objects.select_for_update().get(pk=row.pk)
        if locked.status != QuarantineStatus.OPEN:
            raise QuarantineError(f"この保留行は処理済みです（{locked.get_status_display()}）")
        existing = ImportedRecord.objects.filter(kind=row.kind, record_id=record_id).first()
        if existing is not None and existing.row_sha256 == digest:
            status = ResubmitStatus.ALREADY_APPLIED
        elif existing is not None:
            conflict = FieldError(
                row.line,
                layout.id_column,
                record_id,
                conflict_reason(layout),
                ImportErrorCode.CONFLICT,
            )
            return ResubmitOutcome(ResubmitStatus.INVALID, [conflict])
        elif read.record is None:
            return ResubmitOutcome(ResubmitStatus.INVALID, read.errors)
        else:
            recorded_at = timezone.now()
            ctx = ApplyContext(
                source=f"{importer.source_prefix} 再投入 {row.pk}:{record_id}"[:100],
                recorded_at=recorded_at,
                reported_on=reported_on or timezone.localdate(),
                actor=user,
                import_file_id=row.file_id,
            )
            try:
                with transaction.atomic():
                    importer.apply(read.record, ctx)
            except ROW_ERRORS as error:
                refusal = importer.explain(read.record, error)
                value = raw.get(refusal.field, "") if refusal.field else ""
                failed = FieldError(row.line, refusal.field, value, refusal.reason, refusal.code)
                return ResubmitOutcome(ResubmitStatus.INVALID, [failed])
            ImportedRecord.objects.create(
                kind=row.kind,
                record_id=record_id,
                row_sha256=digest,
                file_id=row.file_id,
                line=row.line,
                applied_at=recorded_at,
            )
            status = ResubmitStatus.APPLIED
        locked.status = QuarantineStatus.RESUBMITTED
        locked.corrected = raw
        locked.resolved_at = timezone.now()
        locked.resolved_by = user
        locked.save(update_fields=["status", "corrected", "resolved_at", "resolved_by"])
        _audit_quarantine(locked, user, action=status.value, purpose=importer.purpose)
    row.refresh_from_db()
    return ResubmitOutcome(status)


def quarantine_discard(*, row: QuarantinedRow, actor: Any | None, note: str = "") -> None:
    """保留行の破棄: staff decided the record is not to be applied (e.g. sent twice)."""
    user = _user(actor)
    with transaction.atomic():
        locked = QuarantinedRow.objects.select_for_update().get(pk=row.pk)
        if locked.status != QuarantineStatus.OPEN:
            raise QuarantineError(f"この保留行は処理済みです（{locked.get_status_display()}）")
        locked.status = QuarantineStatus.DISCARDED
        locked.resolved_at = timezone.now()
        locked.resolved_by = user
        locked.save(update_fields=["status", "resolved_at", "resolved_by"])
        _audit_quarantine(
            locked,
            user,
            action="discarded",
            note=note,
            purpose=IMPORTERS[ImportKind(row.kind)].purpose,
        )
    row.refresh_from_db()


def _audit_quarantine(
    row: QuarantinedRow, user: Any | None, *, action: str, purpose: Purpose, note: str = ""
) -> None:
    audit_event_record(
        event_type=EventType.QUARANTINE_RESOLVED,
        actor=user,
        subject_type=SubjectType.SYSTEM,
        subject_id=f"quarantine:{row.pk}",
        purpose=purpose,
        extra={
            "quarantine": {
                "id": row.pk,
                "action": action,
                "import_file": row.file_id,
                "line": row.line,
                "record_id": row.record_id,
                "note": note,
            }
        },
    )

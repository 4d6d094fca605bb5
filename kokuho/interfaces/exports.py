"""The export register (外部出力記録): every personal-data file that leaves the system.

privacy.md §2 不正な提供・移転: an outbound file is produced only by its named job, by an
account holding `PERSONAL_DATA_EXPORT` (or by the system itself for a scheduled feed), and
each one is written here — who, when, what kind, on which basis, for whom, how many
records, and the file's SHA-256 so that a copy found later can be matched to its row.
The content is never kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from kokuho.accounts.permissions import Perm
from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record, audit_record_denied
from kokuho.interfaces.models import ExportKind, ExportRecord


class ExportErrorCode(StrEnum):
    NOT_PERMITTED = "not_permitted"
    EMPTY = "empty"


class ExportRefused(Exception):
    """The export may not be produced; nothing was written out and nothing registered."""

    def __init__(self, code: ExportErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ExportFile:
    """A produced file, ready to hand over, and its register row."""

    content: bytes
    file_name: str
    content_type: str
    record: ExportRecord


def export_permission_check(*, actor: Any | None, path: str = "") -> None:
    """Refuse (and log the refusal) an actor without 個人情報の外部出力. `None` is the system
    running a scheduled feed, which the operations log accounts for."""
    if actor is None or actor.has_perm(Perm.PERSONAL_DATA_EXPORT):
        return
    with transaction.atomic():
        audit_record_denied(actor=actor, permission=Perm.PERSONAL_DATA_EXPORT, path=path)
    raise ExportRefused(ExportErrorCode.NOT_PERMITTED, "個人情報の外部出力の権限がありません。")


def export_register(
    *,
    kind: ExportKind,
    content: bytes,
    file_name: str,
    content_type: str,
    record_count: int,
    legal_basis: str,
    recipient: str,
    actor: Any | None,
    purpose: str = "",
    reference: str = "",
    subject_id: str = "",
) -> ExportFile:
    """Register a produced file and record its audit event, in the caller's transaction.

    A 開示資料 is logged against the person it is about (`disclosure_produced`, subject =
    宛名番号), every other export against its register row (`personal_data_exported`)."""
    export_permission_check(actor=actor)
    if not content:
        raise ExportRefused(ExportErrorCode.EMPTY, "出力する内容がありません。")
    with transaction.atomic():
        record = ExportRecord.objects.create(
            kind=kind,
            produced_at=timezone.now(),
            produced_by=actor,
            purpose=str(purpose),
            legal_basis=legal_basis,
            recipient=recipient,
            record_count=record_count,
            file_name=file_name,
            file_sha256=hashlib.sha256(content).hexdigest(),
            reference=reference,
        )
        facts = {"export": record.pk, "kind": str(kind), "records": record_count}
        if kind == ExportKind.DISCLOSURE:
            audit_event_record(
                event_type=EventType.DISCLOSURE_PRODUCED,
                actor=actor,
                subject_type=SubjectType.PERSON,
                subject_id=subject_id,
                purpose=str(purpose),
                extra=facts | {"format": file_name.rsplit(".", 1)[-1]},
            )
        else:
            audit_event_record(
                event_type=EventType.PERSONAL_DATA_EXPORTED,
                actor=actor,
                subject_type=SubjectType.EXPORT,
                subject_id=str(record.pk),
                purpose=str(purpose),
                extra=facts,
            )
    return ExportFile(content, file_name, content_type, record)


def exports_between(
    *, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> QuerySet[ExportRecord]:
    """外部出力記録, newest first, optionally within [start, end)."""
    rows = ExportRecord.objects.select_related("produced_by")
    if start is not None:
        rows = rows.filter(produced_at__gte=start)
    if end is not None:
        rows = rows.filter(produced_at__lt=end)
    return rows.order_by("-produced_at", "-pk")

"""Writing the audit trail. Call these inside the transaction of the change they record."""

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from enum import StrEnum
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from kokuho.audit.models import (
    AuditChainHead,
    AuditEvent,
    EventType,
    Incident,
    IncidentKind,
    IncidentNote,
    ReportKind,
    SubjectType,
)
from kokuho.core.bulkwrite import row_writer
from kokuho.core.mynumber import mask_my_numbers_deep, mask_my_numbers_in
from kokuho.core.purposes import Purpose
from kokuho.rules.params import ParameterError, parameters

GENESIS_HASH = "0" * 64


def _canonical(event: "AuditEvent | _Pending") -> str:
    body = {
        "event_type": event.event_type,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "purpose": event.purpose,
        "extra": event.extra,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def event_hash(prev_hash: str, event: "AuditEvent | _Pending") -> str:
    return hashlib.sha256((prev_hash + _canonical(event)).encode()).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """One event to append, for `audit_events_record` (a batch of them)."""

    event_type: EventType
    subject_type: SubjectType
    subject_id: str = ""
    purpose: Purpose | None = None
    extra: dict[str, Any] | None = None


def _event(entry: AuditEntry, user: Any | None) -> AuditEvent:
    safe_extra = mask_my_numbers_deep(json.loads(json.dumps(entry.extra or {}, ensure_ascii=False)))
    return AuditEvent(
        event_type=entry.event_type,
        occurred_at=timezone.now(),
        actor=user,
        actor_username=user.get_username() if user else "",
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        purpose=str(entry.purpose) if entry.purpose else "",
        extra=safe_extra,
    )


def _user(actor: Any | None) -> Any | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def chain_head_locked() -> AuditChainHead:
    """The chain head, locked. Migration 0002 creates it; a database emptied whole (restored
    from a dump without it, or flushed by a transactional test) starts again from genesis —
    but only while it holds no events: a head missing beside events is a broken chain."""
    head = AuditChainHead.objects.select_for_update().filter(id=1).first()
    if head is not None:
        return head
    if AuditEvent.objects.exists():
        raise RuntimeError("監査ログのチェーンの先頭（AuditChainHead）がありません")
    AuditChainHead.objects.get_or_create(id=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH})
    return AuditChainHead.objects.select_for_update().get(id=1)


def audit_event_record(
    *,
    event_type: EventType,
    actor: Any | None,
    subject_type: SubjectType,
    subject_id: str = "",
    purpose: Purpose | None = None,
    extra: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain. Joins the caller's transaction (atomic savepoint)."""
    entry = AuditEntry(event_type, subject_type, subject_id, purpose, extra)
    event = _event(entry, _user(actor))
    with transaction.atomic(savepoint=False):
        head = chain_head_locked()
        event.prev_hash = head.last_hash
        event.row_hash = event_hash(head.last_hash, event)
        event.save(force_insert=True)
        head.last_seq, head.last_hash = event.seq, event.row_hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass(frozen=True)
class _Pending:
    """An event of a batch before it is written: what `event_hash` reads, without a model
    instance (a batch of 40,000 events spent a fifth of its time building those)."""

    event_type: str
    occurred_at: dt.datetime
    actor_id: int | None
    actor_username: str
    subject_type: str
    subject_id: str
    purpose: str
    extra: dict[str, Any]


def _masked(extra: dict[str, Any] | None) -> dict[str, Any]:
    text = json.dumps(extra or {}, ensure_ascii=False)
    masked = mask_my_numbers_in(text)
    return json.loads(masked) if masked != text else dict(extra or {})


_BATCH_FIELDS = (
    "event_type",
    "occurred_at",
    "actor",
    "actor_username",
    "subject_type",
    "subject_id",
    "purpose",
    "extra",
    "prev_hash",
    "row_hash",
)


def audit_events_record(entries: list[AuditEntry], *, actor: Any | None) -> int:
    """Append many events in order with one lock of the chain head and one bulk insert;
    returns how many. They share one `occurred_at`: they are one transaction's changes.

    For batch jobs: call it last in the transaction, so the head (which every audited read
    at the counter also appends to) stays locked only for the insert."""
    if not entries:
        return 0
    user = _user(actor)
    now = timezone.now()
    pending: list[tuple[_Pending, bytes]] = []
    for entry in entries:
        event = _Pending(
            str(entry.event_type),
            now,
            user.pk if user else None,
            user.get_username() if user else "",
            str(entry.subject_type),
            entry.subject_id,
            str(entry.purpose) if entry.purpose else "",
            dict(entry.extra or {}),
        )
        # The canonical text is needed for the hash anyway: mask only when it shows
        # something shaped like a My Number (one serialisation per event, not three).
        canonical = _canonical(event)
        if mask_my_numbers_in(canonical) != canonical:
            event = dataclasses.replace(event, extra=_masked(event.extra))
            canonical = _canonical(event)
        pending.append((event, canonical.encode()))
    with transaction.atomic(savepoint=False):
        head = chain_head_locked()
        last_hash = head.last_hash
        rows = []
        for event, canonical in pending:
            row_hash = hashlib.sha256(last_hash.encode() + canonical).hexdigest()
            rows.append(
                (
                    event.event_type,
                    event.occurred_at,
                    event.actor_id,
                    event.actor_username,
                    event.subject_type,
                    event.subject_id,
                    event.purpose,
                    event.extra,
                    last_hash,
                    row_hash,
                )
            )
            last_hash = row_hash
        row_writer(connection).insert(AuditEvent, _BATCH_FIELDS, rows)
        # Every append holds the head's lock, so the newest row is the last of ours.
        head.last_seq = AuditEvent.objects.aggregate(m=Max("seq"))["m"]
        head.last_hash = last_hash
        head.save(update_fields=["last_seq", "last_hash"])
    return len(rows)


def audit_record_denied(*, actor: Any, permission: str, path: str) -> AuditEvent:
    return audit_event_record(
        event_type=EventType.ACCESS_DENIED,
        actor=actor,
        subject_type=SubjectType.SYSTEM,
        extra={"permission": permission, "path": path},
    )


# --- Incident register (重大事故・漏えい等報告, privacy.md §4) -------------------------------


class IncidentErrorCode(StrEnum):
    IN_FUTURE = "in_future"
    OCCURRED_AFTER_DISCOVERY = "occurred_after_discovery"
    NO_RULES = "no_rules"
    CLOSED = "closed"
    NOT_REPORTABLE = "not_reportable"
    ALREADY_RECORDED = "already_recorded"
    PRELIMINARY_FIRST = "preliminary_first"
    BEFORE_DISCOVERY = "before_discovery"
    REPORTS_OUTSTANDING = "reports_outstanding"
    EMPTY_TEXT = "empty_text"


class IncidentError(ValueError):
    """A change the register refuses; `code` for programs, the message for staff."""

    def __init__(self, code: IncidentErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def _incident_audit(*, incident: Incident, actor: Any, action: str, **extra: Any) -> None:
    """The event carries what changed, never the description: an incident's narrative may
    name the people it concerns, and the audit trail outlives the register."""
    audit_event_record(
        event_type=EventType.INCIDENT_OPENED if action == "opened" else EventType.INCIDENT_UPDATED,
        actor=actor,
        subject_type=SubjectType.INCIDENT,
        subject_id=str(incident.pk),
        extra={"action": action, **extra},
    )


def _not_in_future(value: dt.datetime, what: str) -> None:
    if value > timezone.now():
        raise IncidentError(IncidentErrorCode.IN_FUTURE, f"{what}が未来の日時です")


def incident_open(
    *,
    title: str,
    description: str,
    discovered_at: dt.datetime,
    kind: IncidentKind,
    wrongful_intent: bool,
    includes_my_number: bool,
    reportable: bool,
    actor: Any,
    occurred_at: dt.datetime | None = None,
    persons_affected: int | None = None,
) -> Incident:
    """重大事故等の登録: a new row of the register, from the moment it became known."""
    _not_in_future(discovered_at, "発覚日時")
    if occurred_at is not None and occurred_at > discovered_at:
        raise IncidentError(
            IncidentErrorCode.OCCURRED_AFTER_DISCOVERY, "発生日時が発覚日時より後になっています"
        )
    discovered_on = timezone.localtime(discovered_at).date()
    try:
        # Deadlines are computed from these later; refuse a date no rule covers now.
        parameters().at(discovered_on).privacy.final_report_days  # noqa: B018
    except ParameterError:
        raise IncidentError(
            IncidentErrorCode.NO_RULES,
            f"{discovered_on.isoformat()} に適用される報告期限の定めがありません",
        ) from None
    with transaction.atomic():
        incident = Incident.objects.create(
            title=title,
            description=description,
            discovered_at=discovered_at,
            occurred_at=occurred_at,
            kind=kind,
            wrongful_intent=wrongful_intent,
            persons_affected=persons_affected,
            includes_my_number=includes_my_number,
            reportable=reportable,
            created_by=actor,
            created_at=timezone.now(),
        )
        _incident_audit(
            incident=incident,
            actor=actor,
            action="opened",
            kind=str(kind),
            discovered_on=discovered_on.isoformat(),
            wrongful_intent=wrongful_intent,
            includes_my_number=includes_my_number,
            reportable=reportable,
            persons_affected=persons_affected,
        )
    return incident


def _locked_open(incident: Incident) -> Incident:
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if locked.closed_at is not None:
        raise IncidentError(IncidentErrorCode.CLOSED, "この事案は終結しています")
    return locked


def _when(value: dt.datetime, *, incident: Incident, what: str) -> None:
    _not_in_future(value, what)
    if value < incident.discovered_at:
        raise IncidentError(IncidentErrorCode.BEFORE_DISCOVERY, f"{what}が発覚日時より前です")


def incident_note_add(*, incident: Incident, text: str, actor: Any) -> IncidentNote:
    """経過記録の追加 (append-only)."""
    if not text.strip():
        raise IncidentError(IncidentErrorCode.EMPTY_TEXT, "経過記録の内容を入力してください")
    with transaction.atomic():
        locked = _locked_open(incident)
        note = IncidentNote.objects.create(
            incident=locked, written_at=timezone.now(), author=actor, text=text.strip()
        )
        _incident_audit(incident=locked, actor=actor, action="note_added", note=note.pk)
    return note


_REPORT_FIELDS = {
    ReportKind.PRELIMINARY: "preliminary_reported_at",
    ReportKind.FINAL: "final_reported_at",
}


def incident_mark_reported(
    *, incident: Incident, kind: ReportKind, reported_at: dt.datetime, actor: Any
) -> Incident:
    """速報・確報の記録: when the report went to the 個人情報保護委員会."""
    label = ReportKind(kind).label
    with transaction.atomic():
        locked = _locked_open(incident)
        if not locked.reportable:
            raise IncidentError(IncidentErrorCode.NOT_REPORTABLE, "報告対象の事案ではありません")
        field = _REPORT_FIELDS[ReportKind(kind)]
        if getattr(locked, field) is not None:
            raise IncidentError(IncidentErrorCode.ALREADY_RECORDED, f"{label}は記録済みです")
        if kind == ReportKind.FINAL and locked.preliminary_reported_at is None:
            raise IncidentError(
                IncidentErrorCode.PRELIMINARY_FIRST,
                "速報が記録されていません（同時に報告した場合は速報も同じ日時で記録してください）",
            )
        _when(reported_at, incident=locked, what=f"{label}の日時")
        setattr(locked, field, reported_at)
        locked.save(update_fields=[field])
        _incident_audit(
            incident=locked,
            actor=actor,
            action=f"{ReportKind(kind).value}_reported",
            reported_at=reported_at.isoformat(),
        )
    return locked


def incident_mark_notified(*, incident: Incident, notified_at: dt.datetime, actor: Any) -> Incident:
    """本人通知の記録: when the people concerned were told (or the substitute 公表)."""
    with transaction.atomic():
        locked = _locked_open(incident)
        if locked.persons_notified_at is not None:
            raise IncidentError(IncidentErrorCode.ALREADY_RECORDED, "本人通知は記録済みです")
        _when(notified_at, incident=locked, what="本人通知の日時")
        locked.persons_notified_at = notified_at
        locked.save(update_fields=["persons_notified_at"])
        _incident_audit(
            incident=locked,
            actor=actor,
            action="persons_notified",
            notified_at=notified_at.isoformat(),
        )
    return locked


def incident_close(*, incident: Incident, note: str, actor: Any) -> Incident:
    """終結: with a closing note; a reportable incident only once 確報 and 本人通知 are in."""
    if not note.strip():
        raise IncidentError(IncidentErrorCode.EMPTY_TEXT, "終結の理由・結果を入力してください")
    with transaction.atomic():
        locked = _locked_open(incident)
        if locked.reportable and (
            locked.final_reported_at is None or locked.persons_notified_at is None
        ):
            raise IncidentError(
                IncidentErrorCode.REPORTS_OUTSTANDING,
                "確報と本人通知を記録するまで終結できません",
            )
        now = timezone.now()
        IncidentNote.objects.create(
            incident=locked, written_at=now, author=actor, text=f"【終結】{note.strip()}"
        )
        locked.closed_at = now
        locked.save(update_fields=["closed_at"])
        _incident_audit(incident=locked, actor=actor, action="closed")
    return locked

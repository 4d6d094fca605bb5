"""Writing the audit trail. Call these inside the transaction of the change they record."""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from kokuho.audit.models import AuditChainHead, AuditEvent, EventType, SubjectType
from kokuho.core.bulkwrite import row_writer
from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.core.purposes import Purpose

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
    safe_extra = json.loads(mask_my_numbers_in(json.dumps(entry.extra or {}, ensure_ascii=False)))
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
        head = AuditChainHead.objects.select_for_update().get(id=1)
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
    pending = [
        _Pending(
            str(entry.event_type),
            now,
            user.pk if user else None,
            user.get_username() if user else "",
            str(entry.subject_type),
            entry.subject_id,
            str(entry.purpose) if entry.purpose else "",
            _masked(entry.extra),
        )
        for entry in entries
    ]
    with transaction.atomic(savepoint=False):
        head = AuditChainHead.objects.select_for_update().get(id=1)
        last_hash = head.last_hash
        rows = []
        for event in pending:
            row_hash = event_hash(last_hash, event)
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

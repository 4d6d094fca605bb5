"""Writing the audit trail. Call these inside the transaction of the change they record."""

import hashlib
import json
from datetime import UTC
from typing import Any

from django.db import transaction
from django.utils import timezone

from kokuho.audit.models import AuditChainHead, AuditEvent, EventType, SubjectType
from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.core.purposes import Purpose

GENESIS_HASH = "0" * 64


def _canonical(event: AuditEvent) -> str:
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


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + _canonical(event)).encode()).hexdigest()


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
    safe_extra = json.loads(mask_my_numbers_in(json.dumps(extra or {}, ensure_ascii=False)))
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    with transaction.atomic(savepoint=False):
        head = AuditChainHead.objects.select_for_update().get(id=1)
        event = AuditEvent(
            event_type=event_type,
            occurred_at=timezone.now(),
            actor=user,
            actor_username=user.get_username() if user else "",
            subject_type=subject_type,
            subject_id=subject_id,
            purpose=str(purpose) if purpose else "",
            extra=safe_extra,
            prev_hash=head.last_hash,
        )
        event.row_hash = event_hash(head.last_hash, event)
        event.save(force_insert=True)
        head.last_seq, head.last_hash = event.seq, event.row_hash
        head.save(update_fields=["last_seq", "last_hash"])
    return event


def audit_record_denied(*, actor: Any, permission: str, path: str) -> AuditEvent:
    return audit_event_record(
        event_type=EventType.ACCESS_DENIED,
        actor=actor,
        subject_type=SubjectType.SYSTEM,
        extra={"permission": permission, "path": path},
    )

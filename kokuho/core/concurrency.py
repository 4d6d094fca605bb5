"""Optimistic locking of counter edits (楽観的排他制御).

Every record a counter screen changes carries a `version` (a counter, 1 when created). The
page that offers the change puts the version the clerk saw in the form, with a signed
snapshot of what the page showed (`edit_token`: label → value, e.g. 状態 → 審査中); the
service claims the record with a compare-and-set in its transaction —
`UPDATE … SET version = version + 1 WHERE pk = %s AND version = %s` — before it writes
anything else, so of two clerks saving the same record exactly one wins. The other gets
`StaleEdit`: the code, what changed since they looked (their snapshot against the record
now) and who changed it and when (the audit event the winning service wrote with
`edit_mark`), in Japanese for the screen.

A caller that gives no `seen` (a batch, a command, a test) is checked against the version it
loaded, so a write between its read and its write is still refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.core import signing
from django.db import models
from django.db.models import F
from django.utils import timezone

SEEN_NAMESPACE = "kokuho.core.concurrency.seen"

Shown = Callable[[Any], dict[str, str]]


class ConcurrencyErrorCode(StrEnum):
    STALE_EDIT = "stale_edit"  # 他の職員が先に更新した（表示した版が古い）


@dataclass(frozen=True)
class FieldChange:
    """One value that differs between what the clerk saw and the record now."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class EditSeen:
    """The version of a record the clerk saw (版), and what the page showed of it."""

    version: int
    shown: Mapping[str, str] = field(default_factory=dict)


class StaleEdit(Exception):
    """競合: the record changed after the clerk opened it; nothing of this save was kept."""

    code = ConcurrencyErrorCode.STALE_EDIT

    def __init__(
        self,
        *,
        record: str,
        seen_version: int,
        current_version: int,
        changes: tuple[FieldChange, ...] = (),
        changed_by: str = "",
        changed_at: dt.datetime | None = None,
    ) -> None:
        self.record = record
        self.seen_version = seen_version
        self.current_version = current_version
        self.changes = changes
        self.changed_by = changed_by
        self.changed_at = changed_at
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """「この記録は 10:42 に 山田 さんが更新しました。変更点: 状態 審査中 → 決定済み。…」"""
        if self.changed_at is not None and self.changed_by:
            head = f"この記録は {_when(self.changed_at)} に {self.changed_by} さんが更新しました。"
        else:
            head = "この記録は、表示した後に更新されました。"
        if self.changes:
            none = "（なし）"
            listed = "、".join(
                f"{c.label} {c.before or none} → {c.after or none}" for c in self.changes
            )
            head += f"変更点: {listed}。"
        return head + "内容を確認してから、もう一度保存してください。"


def _when(moment: dt.datetime) -> str:
    from kokuho.core.wareki import format_wareki

    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return f"{local:%H:%M}"
    return f"{format_wareki(local.date())} {local:%H:%M}"


def edit_key(instance: models.Model) -> str:
    """The record as the audit trail names it: `benefits.benefitapplication:12`."""
    return f"{instance._meta.label_lower}:{instance.pk}"


def edit_mark(instance: models.Model) -> dict[str, Any]:
    """What a service adds to the audit event of an edit, so a later conflict can say who
    made this version and when."""
    return {"edit": edit_key(instance), "version": instance.version}  # type: ignore[attr-defined]


def edit_token(*, instance: models.Model, shown: Shown) -> str:
    """The hidden form value: the version and what the page shows, signed (the message of a
    conflict is built from it, so it must be the server's)."""
    payload = {"k": edit_key(instance), "v": instance.version, "s": shown(instance)}  # type: ignore[attr-defined]
    return signing.dumps(payload, salt=SEEN_NAMESPACE, compress=True)


def edit_seen(*, version: int, token: str, instance: models.Model) -> EditSeen:
    """What the clerk saw, from the form: the version always; the snapshot when the token is
    the server's, for this record and this version (else none — the check still holds)."""
    try:
        payload = signing.loads(token or "", salt=SEEN_NAMESPACE)
    except signing.BadSignature:
        return EditSeen(version)
    if payload.get("k") != edit_key(instance) or payload.get("v") != version:
        return EditSeen(version)
    return EditSeen(version, {str(k): str(v) for k, v in (payload.get("s") or {}).items()})


def edit_claim(
    *,
    instance: models.Model,
    seen: EditSeen | None,
    shown: Shown,
    subject: tuple[str, str] | None = None,
) -> None:
    """Compare-and-set the record's version (see the module docstring); call it inside the
    service's transaction before its other writes. `instance.version` is the new version
    after it. `subject` (the audit subject type and id) finds who made the current version.
    Raises `StaleEdit` and writes nothing when the record is not at the version seen."""
    loaded: int = instance.version  # type: ignore[attr-defined]
    expected = loaded if seen is None else seen.version
    model = type(instance)
    claimed = 0
    if expected == loaded:
        claimed = model._default_manager.filter(pk=instance.pk, version=expected).update(
            version=F("version") + 1
        )
    if not claimed:
        raise stale_edit(instance=instance, seen=seen or EditSeen(expected), shown=shown,
                         subject=subject)  # fmt: skip
    instance.version = expected + 1  # type: ignore[attr-defined]


def edit_check(
    *,
    instance: models.Model,
    seen: EditSeen | None,
    shown: Shown,
    subject: tuple[str, str] | None = None,
) -> None:
    """The cheap check before a service's own refusals (決定済み …): a clerk whose page is
    out of date is told what changed rather than only that the step cannot be taken. The
    compare-and-set (`edit_claim`) still decides."""
    if seen is not None and seen.version != instance.version:  # type: ignore[attr-defined]
        raise stale_edit(instance=instance, seen=seen, shown=shown, subject=subject)


def stale_edit(
    *,
    instance: models.Model,
    seen: EditSeen,
    shown: Shown,
    subject: tuple[str, str] | None = None,
) -> StaleEdit:
    """The conflict as the record is now: its current version, the values that differ from
    the clerk's snapshot, and the author and time of the current version if audited."""
    current = type(instance)._default_manager.get(pk=instance.pk)
    now = shown(current)
    changes = tuple(
        FieldChange(label, seen.shown.get(label, ""), value)
        for label, value in now.items()
        if seen.shown and seen.shown.get(label) != value
    )
    changed_by, changed_at = _author(current, subject)
    return StaleEdit(
        record=edit_key(current),
        seen_version=seen.version,
        current_version=current.version,  # type: ignore[attr-defined]
        changes=changes,
        changed_by=changed_by,
        changed_at=changed_at,
    )


def _author(
    current: models.Model, subject: tuple[str, str] | None
) -> tuple[str, dt.datetime | None]:
    from kokuho.audit.models import AuditEvent  # core has no app of its own to import

    events = AuditEvent.objects.filter(
        extra__edit=edit_key(current),
        extra__version=current.version,  # type: ignore[attr-defined]
    )
    if subject is not None:  # the (subject_type, subject_id, occurred_at) index
        events = events.filter(subject_type=subject[0], subject_id=subject[1])
    event = events.select_related("actor__staff_profile").order_by("-seq").first()
    if event is None:
        return "", None
    profile = getattr(event.actor, "staff_profile", None) if event.actor else None
    name = (profile.full_name if profile else "") or event.actor_username
    return name, event.occurred_at

"""Resolving the national links' work items (連携の作業項目の解決) — the services screens call.

A J-LIS mismatch (住基照合の不一致) of the オンライン資格確認 is resolved one of two ways:

* `jlis_mismatch_resend` — "fixed and re-sent": the clerk corrected what was wrong (the
  person's record, or confirmed the 住基 side was corrected). The key's sent state is marked
  so the next delta carries the whole current record again as 訂正 (処理区分 4), even when
  nothing in our record changed.
* `jlis_mismatch_confirm` — "confirmed with a reason": our record is right as it is; the
  reason is kept, and from the next delta the record carries 本人確認判定 2 (確認済み), which
  changes its content, so it is re-sent as 変更.

`national_work_item_resolve` closes any other item by hand with what was done. Each
resolution names the staff member, records the resolution, and writes the audit event
NATIONAL_WORK_ITEM_RESOLVED in the same transaction. A clerk needs 資格の異動処理.

Each resolution claims the item's version (`kokuho.core.concurrency.edit_claim`) with what
the clerk saw (`seen`): of two clerks resolving the same item one wins, the other gets
`StaleEdit` saying what changed (`national_work_item_shown`), and nothing of theirs is kept.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from kokuho.accounts.permissions import Perm
from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record, audit_record_denied
from kokuho.core.concurrency import EditSeen, edit_check, edit_claim, edit_mark
from kokuho.national.feeds import feed_spec
from kokuho.national.ledger import RESEND_CORRECTED
from kokuho.national.models import NationalWorkItem, SentState, WorkItemKind
from kokuho.national.onshi.extract import CONFIRMED_KIND

RESENT_KIND = "resent"


class WorkItemError(ValueError):
    """The item cannot be resolved so (already resolved, wrong kind, no reason …)."""


class WorkItemRefused(PermissionError):
    """The actor may not resolve national work items."""


def national_work_item_shown(item: NationalWorkItem) -> dict[str, str]:
    """What the item's page shows of its state, by label (a conflict lists what differs)."""
    return {
        "状態": "解決済み" if item.resolved_at is not None else "未解決",
        "解決の内容": item.resolution,
    }


def _subject(item: NationalWorkItem) -> tuple[str, str]:
    if item.person_id:
        return SubjectType.PERSON, item.person.atena_no
    return SubjectType.SYSTEM, item.key[:40]


def _check(
    item: NationalWorkItem, actor: Any, kind: str | None, seen: EditSeen | None = None
) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise WorkItemError("作業項目の解決には職員の記録が必要です")
    if not actor.has_perm(str(Perm.ELIGIBILITY_CHANGE)):
        with transaction.atomic():
            audit_record_denied(actor=actor, permission=Perm.ELIGIBILITY_CHANGE, path="")
        raise WorkItemRefused("作業項目を解決する権限がありません（資格の異動処理）")
    edit_check(instance=item, seen=seen, shown=national_work_item_shown, subject=_subject(item))
    if item.resolved_at is not None:
        raise WorkItemError("この作業項目は解決済みです")
    if kind is not None and item.kind != kind:
        raise WorkItemError(f"この作業項目は「{item.get_kind_display()}」ではありません")


def _resolve(
    item: NationalWorkItem, actor: Any, resolution: str, how: str, seen: EditSeen | None
) -> NationalWorkItem:
    edit_claim(instance=item, seen=seen, shown=national_work_item_shown, subject=_subject(item))
    item.resolved_at = timezone.now()
    item.resolved_by = actor
    item.resolution = resolution[:300]
    item.detail = {**(item.detail or {}), "resolution_kind": how}
    item.save(update_fields=["resolved_at", "resolved_by", "resolution", "detail"])
    audit_event_record(
        event_type=EventType.NATIONAL_WORK_ITEM_RESOLVED,
        actor=actor,
        subject_type=_subject(item)[0],
        subject_id=_subject(item)[1],
        purpose=feed_spec(item.feed).purpose,
        extra={
            "feed": item.feed,
            "kind": item.kind,
            "key": item.key,
            "resolution_kind": how,
            "resolution": item.resolution,
            **edit_mark(item),
        },
    )
    return item


def jlis_mismatch_resend(
    *, item: NationalWorkItem, actor: Any, note: str = "", seen: EditSeen | None = None
) -> NationalWorkItem:
    """修正して再送: the next delta re-sends the key's current record as 訂正."""
    _check(item, actor, WorkItemKind.JLIS_MISMATCH, seen)
    with transaction.atomic():
        marked = SentState.objects.filter(feed=item.feed, key=item.key, deleted=False).update(
            content_sha256=RESEND_CORRECTED
        )
        resolution = "修正して再送（次の差分で訂正として送信）"
        if not marked:
            resolution = "修正して再送（送信済みの状態がないため、次の差分の新規で送信）"
        if note.strip():
            resolution += f": {note.strip()}"
        return _resolve(item, actor, resolution, RESENT_KIND, seen)


def jlis_mismatch_confirm(
    *, item: NationalWorkItem, actor: Any, reason: str, seen: EditSeen | None = None
) -> NationalWorkItem:
    """理由を付して確認: the record stays; 本人確認判定 2 from the next delta."""
    _check(item, actor, WorkItemKind.JLIS_MISMATCH, seen)
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise WorkItemError("確認の理由を入力してください")
    with transaction.atomic():
        return _resolve(item, actor, reason, CONFIRMED_KIND, seen)


def national_work_item_resolve(
    *, item: NationalWorkItem, actor: Any, resolution: str, seen: EditSeen | None = None
) -> NationalWorkItem:
    """Close any work item by hand with what was done (e.g. a 外字 item whose record will
    not be sent again)."""
    _check(item, actor, None, seen)
    resolution = (resolution or "").strip()
    if len(resolution) < 2:
        raise WorkItemError("解決の内容を入力してください")
    with transaction.atomic():
        return _resolve(item, actor, resolution, "manual", seen)


def national_work_items_open(*, feed: str | None = None, kind: str | None = None):
    """Open items, oldest first (selector for the screens)."""
    items = NationalWorkItem.objects.filter(resolved_at__isnull=True).select_related("person")
    if feed:
        items = items.filter(feed=feed)
    if kind:
        items = items.filter(kind=kind)
    return items.order_by("created_at", "pk")

"""Writes of the work queues: give items to a clerk, set or clear their 期限, take them back.

Only an account that works a queue (its `work` right) may change who has its items, and only
to a clerk who works it too; only items the queue still holds open are touched — an id that
is not (resolved meanwhile, another queue's, made up) refuses the whole change, so a bulk
action is applied to everything ticked or to nothing. Each change is one audit event naming
the queue, the items and the clerk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record, audit_record_denied
from kokuho.workqueue.models import WorkAssignment
from kokuho.workqueue.queues import QueueSpec
from kokuho.workqueue.selectors import queue_clerks

MAX_ITEMS = 500  # one bulk action: at most a page or two of a list


class WorkErrorCode(StrEnum):
    NOT_PERMITTED = "not_permitted"
    NO_ITEMS = "no_items"
    TOO_MANY = "too_many"
    NOT_OPEN = "not_open"
    NOT_A_CLERK = "not_a_clerk"
    NOTHING_TO_DO = "nothing_to_do"
    DUE_IN_PAST = "due_in_past"


class WorkError(ValueError):
    """A queue change refused; `code` for programs, the message for staff."""

    def __init__(self, code: WorkErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class Change(StrEnum):
    ASSIGN = "assign"  # 担当者を割り当てる（期限も指定できる）
    DUE = "due"  # 期限だけを変える
    RELEASE = "release"  # 担当を外す（期限の指定も消える）


@dataclass(frozen=True)
class WorkChange:
    change: Change
    item_ids: tuple[int, ...]
    assignee: User | None = None
    due_on: dt.date | None = None


def _open_ids(spec: QueueSpec, ids: set[int]) -> set[int]:
    return set(spec.items().filter(pk__in=ids).order_by().values_list("pk", flat=True))


def work_change(*, spec: QueueSpec, change: WorkChange, actor: Any, today: dt.date) -> int:
    """Apply one change to the ticked items of a queue (see the module docstring); returns
    how many items it touched."""
    if not actor.has_perm(spec.work):
        with transaction.atomic():
            audit_record_denied(actor=actor, permission=spec.work, path=f"workqueue:{spec.key}")
        raise WorkError(WorkErrorCode.NOT_PERMITTED, f"{spec.title}を扱う権限がありません。")
    ids = set(change.item_ids)
    if not ids:
        raise WorkError(WorkErrorCode.NO_ITEMS, "対象を選択してください。")
    if len(ids) > MAX_ITEMS:
        raise WorkError(
            WorkErrorCode.TOO_MANY,
            f"一度に変更できるのは {MAX_ITEMS} 件までです（{len(ids)} 件）。",
        )
    if change.change == Change.ASSIGN:
        if change.assignee is None:
            raise WorkError(WorkErrorCode.NOT_A_CLERK, "担当者を選択してください。")
        if not queue_clerks(spec).filter(pk=change.assignee.pk).exists():
            raise WorkError(
                WorkErrorCode.NOT_A_CLERK,
                f"{change.assignee.username} は{spec.title}を扱う職員ではありません。",
            )
    if change.change == Change.DUE and change.due_on is None:
        raise WorkError(WorkErrorCode.NOTHING_TO_DO, "期限を入力してください。")
    if change.due_on is not None and change.due_on < today:
        raise WorkError(WorkErrorCode.DUE_IN_PAST, "期限に過去の日は指定できません。")
    with transaction.atomic():
        open_ids = _open_ids(spec, ids)
        gone = sorted(ids - open_ids)
        if gone:
            raise WorkError(
                WorkErrorCode.NOT_OPEN,
                f"{spec.title}に未処理として残っていないものが {len(gone)} 件含まれています"
                "（処理済み・取消し等）。一覧を表示し直してください。",
            )
        _apply(spec, change, sorted(ids), actor)
        audit_event_record(
            event_type=EventType.WORK_ASSIGNED,
            actor=actor,
            subject_type=SubjectType.SYSTEM,
            extra={
                "queue": spec.key,
                "change": change.change.value,
                "items": sorted(ids),
                "assignee": change.assignee.username if change.assignee else "",
                "due_on": change.due_on.isoformat() if change.due_on else "",
            },
        )
    return len(ids)


def _apply(spec: QueueSpec, change: WorkChange, ids: list[int], actor: Any) -> None:
    now = timezone.now()
    existing = {
        a.item_id: a
        for a in WorkAssignment.objects.select_for_update().filter(queue=spec.key, item_id__in=ids)
    }
    if change.change == Change.RELEASE:
        WorkAssignment.objects.filter(pk__in=[a.pk for a in existing.values()]).delete()
        return
    fresh, changed = [], []
    for item_id in ids:
        row = existing.get(item_id)
        if row is None:
            row = WorkAssignment(queue=spec.key, item_id=item_id)
            fresh.append(row)
        else:
            changed.append(row)
        if change.change == Change.ASSIGN:
            row.assignee = change.assignee
            if change.due_on is not None:
                row.due_on = change.due_on
        else:
            row.due_on = change.due_on
        row.updated_at, row.updated_by = now, actor
    WorkAssignment.objects.bulk_create(fresh)
    WorkAssignment.objects.bulk_update(changed, ["assignee", "due_on", "updated_at", "updated_by"])

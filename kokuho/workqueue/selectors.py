"""Reads of the work queues: an item's clerk and 期限 beside the item, the views a clerk
asks for (filter, sort), the counts of the home, the clerks a queue may be given to.

A queue is read as the owning context's queryset of open items, annotated here — never a
loop over items: the clerk, the 期限 set on the assignment and the default 期限 (the
received day plus the 標準処理期間 in force on that day) are columns of the same query,
so a filter or a sort by 期限 is the database's work whatever the queue's size.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import User
from django.db.models import Case, Count, DateField, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce

from kokuho.accounts.permissions import ROLE_PERMISSIONS
from kokuho.core.dbfunctions import AddDays
from kokuho.rules.params import parameters
from kokuho.workqueue.models import WorkAssignment
from kokuho.workqueue.queues import QueueSpec

STANDARD_DAYS = "workqueue.standard_days"
SOON_DAYS = 7  # 「期限7日以内」


class AssigneeFilter(StrEnum):
    ANY = ""
    MINE = "me"
    NOBODY = "none"


class DueFilter(StrEnum):
    ANY = ""
    OVERDUE = "overdue"
    SOON = "soon"  # 期限が今日から7日以内（超過を含む）


class QueueSort(StrEnum):
    DUE = "due"  # 期限の近い順
    OLDEST = "received"  # 受付の古い順
    NEWEST = "-received"  # 受付の新しい順


SORT_LABELS = {
    QueueSort.DUE: "期限の近い順",
    QueueSort.OLDEST: "受付の古い順",
    QueueSort.NEWEST: "受付の新しい順",
}


@dataclass(frozen=True)
class QueueView:
    """What a clerk asked to see: whose items (everyone's, theirs, nobody's or one clerk's
    by id), which 期限, in which order."""

    assignee: str = AssigneeFilter.ANY
    due: DueFilter = DueFilter.ANY
    sort: QueueSort = QueueSort.DUE


@dataclass(frozen=True)
class QueueCounts:
    total: int
    unassigned: int
    mine: int
    overdue: int


def _default_due(spec: QueueSpec):
    """received + the 標準処理期間 in force on the received day (dated: a change of the
    period applies to items received from its start, never to those already waiting)."""
    entries = parameters().get(STANDARD_DAYS).values
    received = spec.received()
    whens = [
        When(work_received__gte=entry.start, then=AddDays(received, int(entry.value[spec.key])))
        for entry in reversed(entries)
    ]
    return Case(*whens, default=AddDays(received, int(entries[0].value[spec.key])))


def queue_items(spec: QueueSpec, items: QuerySet | None = None) -> QuerySet:
    """The queue's open items (or `items`, a narrower queryset of the same model) with
    `work_assignee_id`, `work_due_set` (a 期限 a clerk set), `work_received` and `work_due`."""
    assignment = WorkAssignment.objects.filter(queue=spec.key, item_id=OuterRef("pk"))
    base = spec.items() if items is None else items
    return base.annotate(
        work_assignee_id=Subquery(assignment.values("assignee_id")[:1]),
        work_due_set=Subquery(assignment.values("due_on")[:1], output_field=DateField()),
        work_received=spec.received(),
    ).annotate(
        work_due=Coalesce("work_due_set", _default_due(spec), output_field=DateField()),
    )


def queue_view(
    spec: QueueSpec, view: QueueView, *, user: User, today: dt.date, items: QuerySet | None = None
) -> QuerySet:
    """The items a clerk asked for, in the order asked (ties by the list's own order)."""
    rows = queue_items(spec, items)
    if view.assignee == AssigneeFilter.MINE:
        rows = rows.filter(work_assignee_id=user.pk)
    elif view.assignee == AssigneeFilter.NOBODY:
        rows = rows.filter(work_assignee_id__isnull=True)
    elif view.assignee:
        rows = rows.filter(work_assignee_id=int(view.assignee))
    if view.due == DueFilter.OVERDUE:
        rows = rows.filter(work_due__lt=today)
    elif view.due == DueFilter.SOON:
        rows = rows.filter(work_due__lte=today + dt.timedelta(days=SOON_DAYS))
    own_order = list(rows.query.order_by) or ["pk"]
    by = {
        QueueSort.DUE: ["work_due"],
        QueueSort.OLDEST: ["work_received"],
        QueueSort.NEWEST: ["-work_received"],
    }[view.sort]
    return rows.order_by(*by, *own_order)


def queue_counts(spec: QueueSpec, *, user: User, today: dt.date) -> QueueCounts:
    """The home's counts of a queue, in one query."""
    totals = (
        queue_items(spec)
        .order_by()
        .aggregate(
            total=Count("pk"),
            unassigned=Count("pk", filter=Q(work_assignee_id__isnull=True)),
            mine=Count("pk", filter=Q(work_assignee_id=user.pk)),
            overdue=Count("pk", filter=Q(work_due__lt=today)),
        )
    )
    return QueueCounts(**totals)


def queue_clerks(spec: QueueSpec) -> QuerySet[User]:
    """Active accounts whose roles grant the queue's work: whom its items may be given to."""
    roles = [role.value for role, perms in ROLE_PERMISSIONS.items() if spec.work in perms]
    return (
        User.objects.filter(is_active=True, groups__name__in=roles)
        .select_related("staff_profile")
        .distinct()
        .order_by("username")
    )


def assignee_names(ids: set[int]) -> dict[int, str]:
    """Display names of the clerks on a page (one query)."""
    users = User.objects.filter(pk__in=ids).select_related("staff_profile")
    return {u.pk: clerk_name(u) for u in users}


def clerk_name(user: User) -> str:
    """The clerk's 氏名 as the staff register has it (the account name when none)."""
    profile = getattr(user, "staff_profile", None)
    return (profile.full_name if profile else "") or user.username

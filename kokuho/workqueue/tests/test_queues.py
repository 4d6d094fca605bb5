"""Work queues (作業キュー): who has an item and by when, the views a clerk asks for, the
home's counts, and the changes refused whole."""

import datetime as dt

import pytest
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.national.models import Feed, NationalWorkItem, WorkItemKind
from kokuho.rules.params import parameters
from kokuho.testing import make_staff
from kokuho.workqueue.models import WorkAssignment
from kokuho.workqueue.queues import QUEUES, queue_spec
from kokuho.workqueue.selectors import (
    AssigneeFilter,
    DueFilter,
    QueueSort,
    QueueView,
    queue_clerks,
    queue_counts,
    queue_items,
    queue_view,
)
from kokuho.workqueue.services import Change, WorkChange, WorkError, WorkErrorCode, work_change

pytestmark = pytest.mark.django_db
SPEC = queue_spec("national_items")
TODAY = dt.date(2026, 12, 7)
DAYS = parameters().at(TODAY).workqueue.standard_days["national_items"]


def item(key: str, created: dt.date, *, kind=WorkItemKind.CHARSET) -> NationalWorkItem:
    at = timezone.make_aware(dt.datetime.combine(created, dt.time(23, 30)))
    return NationalWorkItem.objects.create(
        feed=Feed.ONSHI_HISTORY, kind=kind, key=key, message="外字", created_at=at
    )


def ids(rows) -> list[str]:
    return [r.key for r in rows]


def test_every_queue_reads_on_this_database():
    """Each queue's annotated query runs (its received day and 期限 are valid SQL here)."""
    user = make_staff(role=Role.ELIGIBILITY)
    for spec in QUEUES.values():
        assert queue_counts(spec, user=user, today=TODAY).total == 0
        assert list(queue_view(spec, QueueView(), user=user, today=TODAY)) == []


def test_the_default_due_day_is_the_received_day_plus_the_standard_period():
    # 23:30 in Tokyo is the next day in UTC: the received day is the local one.
    row = queue_items(SPEC).get(pk=item("a", dt.date(2026, 12, 1)).pk)
    assert row.work_received == dt.date(2026, 12, 1)
    assert row.work_due == dt.date(2026, 12, 1) + dt.timedelta(days=DAYS)
    assert row.work_assignee_id is None and row.work_due_set is None


def test_a_due_day_set_by_a_clerk_replaces_the_default():
    clerk = make_staff(role=Role.ELIGIBILITY)
    a = item("a", dt.date(2026, 12, 1))
    work_change(
        spec=SPEC,
        change=WorkChange(Change.DUE, (a.pk,), due_on=dt.date(2027, 1, 15)),
        actor=clerk,
        today=TODAY,
    )
    row = queue_items(SPEC).get(pk=a.pk)
    assert row.work_due == row.work_due_set == dt.date(2027, 1, 15)
    assert row.work_assignee_id is None


def test_filters_and_sorts():
    me, other = make_staff(role=Role.ELIGIBILITY), make_staff(role=Role.ELIGIBILITY)
    old = item("old", TODAY - dt.timedelta(days=DAYS + 3))  # overdue
    item("mid", TODAY - dt.timedelta(days=DAYS - 2))  # due in 2 days
    new = item("new", TODAY)
    work_change(spec=SPEC, change=WorkChange(Change.ASSIGN, (old.pk,), me), actor=me, today=TODAY)
    work_change(
        spec=SPEC,
        change=WorkChange(Change.ASSIGN, (new.pk,), other, due_on=TODAY),
        actor=me,
        today=TODAY,
    )

    def view(**kw):
        return ids(queue_view(SPEC, QueueView(**kw), user=me, today=TODAY))

    assert view() == ["old", "new", "mid"]  # by 期限: old overdue, new due today, mid in 2
    assert view(sort=QueueSort.OLDEST) == ["old", "mid", "new"]
    assert view(sort=QueueSort.NEWEST) == ["new", "mid", "old"]
    assert view(assignee=AssigneeFilter.MINE) == ["old"]
    assert view(assignee=AssigneeFilter.NOBODY) == ["mid"]
    assert view(assignee=str(other.pk)) == ["new"]
    assert view(due=DueFilter.OVERDUE) == ["old"]
    assert view(due=DueFilter.SOON) == ["old", "new", "mid"]
    counts = queue_counts(SPEC, user=me, today=TODAY)
    assert (counts.total, counts.unassigned, counts.mine, counts.overdue) == (3, 1, 1, 1)


def test_a_resolved_item_leaves_the_queue_and_its_counts():
    me = make_staff(role=Role.ELIGIBILITY)
    a, b = item("a", TODAY), item("b", TODAY)
    work_change(
        spec=SPEC, change=WorkChange(Change.ASSIGN, (a.pk, b.pk), me), actor=me, today=TODAY
    )
    NationalWorkItem.objects.filter(pk=a.pk).update(resolved_at=timezone.now())
    assert queue_counts(SPEC, user=me, today=TODAY).mine == 1
    assert ids(queue_view(SPEC, QueueView(assignee="me"), user=me, today=TODAY)) == ["b"]


def test_assign_release_and_the_audit_event():
    me, other = make_staff(role=Role.ELIGIBILITY), make_staff(role=Role.ELIGIBILITY)
    a, b = item("a", TODAY), item("b", TODAY)
    assert (
        work_change(
            spec=SPEC,
            change=WorkChange(Change.ASSIGN, (a.pk, b.pk), other, due_on=TODAY),
            actor=me,
            today=TODAY,
        )
        == 2
    )
    assert set(WorkAssignment.objects.values_list("item_id", "assignee_id", "due_on")) == {
        (a.pk, other.pk, TODAY),
        (b.pk, other.pk, TODAY),
    }
    event = AuditEvent.objects.filter(event_type=EventType.WORK_ASSIGNED).get()
    assert event.actor_id == me.pk
    assert event.extra == {
        "queue": "national_items",
        "change": "assign",
        "items": sorted([a.pk, b.pk]),
        "assignee": other.username,
        "due_on": TODAY.isoformat(),
    }
    # Re-assigning without a 期限 keeps the one set; releasing clears both.
    work_change(spec=SPEC, change=WorkChange(Change.ASSIGN, (a.pk,), me), actor=me, today=TODAY)
    assert WorkAssignment.objects.get(item_id=a.pk).due_on == TODAY
    work_change(spec=SPEC, change=WorkChange(Change.RELEASE, (a.pk,)), actor=me, today=TODAY)
    assert list(WorkAssignment.objects.values_list("item_id", flat=True)) == [b.pk]


def test_a_change_touching_an_item_not_open_changes_nothing():
    me = make_staff(role=Role.ELIGIBILITY)
    a, b = item("a", TODAY), item("b", TODAY)
    NationalWorkItem.objects.filter(pk=b.pk).update(resolved_at=timezone.now())
    for wrong in (b.pk, 999_999):
        with pytest.raises(WorkError) as refused:
            work_change(
                spec=SPEC,
                change=WorkChange(Change.ASSIGN, (a.pk, wrong), me),
                actor=me,
                today=TODAY,
            )
        assert refused.value.code == WorkErrorCode.NOT_OPEN
    assert not WorkAssignment.objects.exists()
    assert not AuditEvent.objects.filter(event_type=EventType.WORK_ASSIGNED).exists()


def test_only_a_clerk_of_the_queue_assigns_or_is_assigned():
    me = make_staff(role=Role.ELIGIBILITY)
    counter, benefits = make_staff(role=Role.COUNTER), make_staff(role=Role.BENEFITS)
    a = item("a", TODAY)
    with pytest.raises(WorkError) as refused:
        work_change(
            spec=SPEC, change=WorkChange(Change.ASSIGN, (a.pk,), me), actor=counter, today=TODAY
        )
    assert refused.value.code == WorkErrorCode.NOT_PERMITTED
    assert AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).exists()
    with pytest.raises(WorkError) as refused:
        work_change(
            spec=SPEC, change=WorkChange(Change.ASSIGN, (a.pk,), benefits), actor=me, today=TODAY
        )
    assert refused.value.code == WorkErrorCode.NOT_A_CLERK
    assert me in queue_clerks(SPEC) and benefits not in queue_clerks(SPEC)
    assert benefits in queue_clerks(queue_spec("applications"))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (WorkChange(Change.ASSIGN, ()), WorkErrorCode.NO_ITEMS),
        (WorkChange(Change.ASSIGN, tuple(range(1, 502))), WorkErrorCode.TOO_MANY),
        (WorkChange(Change.DUE, (1,)), WorkErrorCode.NOTHING_TO_DO),
        (
            WorkChange(Change.DUE, (1,), due_on=TODAY - dt.timedelta(days=1)),
            WorkErrorCode.DUE_IN_PAST,
        ),
        (WorkChange(Change.ASSIGN, (1,)), WorkErrorCode.NOT_A_CLERK),
    ],
)
def test_bad_changes_are_refused_with_a_code(change, code):
    me = make_staff(role=Role.ELIGIBILITY)
    with pytest.raises(WorkError) as refused:
        work_change(spec=SPEC, change=change, actor=me, today=TODAY)
    assert refused.value.code == code and str(refused.value)


def test_a_change_of_the_standard_period_applies_from_its_start(monkeypatch):
    """A dated parameter: items received before the change keep the old period."""
    from kokuho.rules import params
    from kokuho.workqueue import selectors

    real = parameters()
    entry = real.get(selectors.STANDARD_DAYS).values[0]
    later = params.DatedValue(
        dt.date(2026, 11, 1),
        {**entry.value, "national_items": 1},
        entry.status,
        entry.reference,
        entry.source,
    )
    changed = params.Parameter(selectors.STANDARD_DAYS, "", "days", (entry, later))
    monkeypatch.setattr(
        selectors,
        "parameters",
        lambda: params.ParameterSet({**real.by_name, selectors.STANDARD_DAYS: changed}),
    )
    before, after = item("before", dt.date(2026, 10, 31)), item("after", dt.date(2026, 11, 1))
    due = dict(queue_items(SPEC).values_list("pk", "work_due"))
    assert due[before.pk] == dt.date(2026, 10, 31) + dt.timedelta(
        days=entry.value["national_items"]
    )
    assert due[after.pk] == dt.date(2026, 11, 2)

"""The work-queue pattern on a list screen (作業キュー): the filter a clerk asks for, the
clerk and 期限 beside each item, and the bulk bar (担当の割当て・期限・担当を外す).

A list view calls `queue_list(request, spec, items)` with its own open items (already
narrowed by the list's own filters), paginates the result as it always did, and hands the
page to `queue_page_rows` so each item carries its clerk's name and whether it is overdue.
The templates only print what is here (`web/_queue_filter.html`, `web/_queue_bulk.html`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from kokuho.web.forms import DayField
from kokuho.workqueue.queues import QueueSpec
from kokuho.workqueue.selectors import (
    SORT_LABELS,
    AssigneeFilter,
    DueFilter,
    QueueSort,
    QueueView,
    assignee_names,
    clerk_name,
    queue_clerks,
    queue_view,
)
from kokuho.workqueue.services import Change

QUEUE_PARAMS = ("assignee", "due", "sort")


def clerk_choices(spec: QueueSpec) -> list[tuple[str, str]]:
    # 氏名 with the account name: two clerks may share a name.
    return [(str(u.pk), f"{clerk_name(u)}（{u.username}）") for u in queue_clerks(spec)]


class QueueFilterForm(forms.Form):
    assignee = forms.ChoiceField(label="担当", required=False)
    due = forms.ChoiceField(
        label="期限",
        required=False,
        choices=[
            (DueFilter.ANY.value, "すべて"),
            (DueFilter.OVERDUE.value, "期限超過"),
            (DueFilter.SOON.value, "7日以内（超過を含む）"),
        ],
    )
    sort = forms.ChoiceField(
        label="並び順",
        required=False,
        choices=[(s.value, label) for s, label in SORT_LABELS.items()],
    )

    def __init__(self, *args: Any, clerks: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [
            (AssigneeFilter.ANY.value, "すべて"),
            (AssigneeFilter.MINE.value, "自分"),
            (AssigneeFilter.NOBODY.value, "未割当"),
            *clerks,
        ]
        for name in QUEUE_PARAMS:
            self.fields[name].error_messages["invalid_choice"] = (
                f"{self.fields[name].label}の指定（%(value)s）は選択肢にありません。"
            )

    def view(self) -> QueueView:
        if not self.is_valid():
            return QueueView()
        data = self.cleaned_data
        return QueueView(
            assignee=data["assignee"] or AssigneeFilter.ANY,
            due=DueFilter(data["due"] or ""),
            sort=QueueSort(data["sort"] or QueueSort.DUE.value),
        )


class QueueChangeForm(forms.Form):
    change = forms.ChoiceField(
        choices=[(c.value, c.value) for c in Change],
        error_messages={"required": "操作を選択してください。"},
    )
    clerk = forms.ChoiceField(label="担当者", required=False)  # not `assignee`: the filter's
    due_on = DayField(label="期限", required=False)

    def __init__(self, *args: Any, clerks: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clerk"].choices = [("", "（選択）"), *clerks]
        self.fields["clerk"].error_messages["invalid_choice"] = (
            "担当者に選べない職員が指定されました。"
        )
        self.fields["change"].error_messages["invalid_choice"] = "操作の指定が不正です。"


@dataclass
class QueueList:
    """What a list screen needs for the pattern: the spec, the filter form, the rows in the
    clerk's order, the bulk form's clerks, and the list's query string without the page."""

    spec: QueueSpec
    form: QueueFilterForm
    change_form: QueueChangeForm
    rows: QuerySet
    can_change: bool
    query: str
    keep: list[tuple[str, str]]  # the list's own filters, carried by the queue's forms
    asked: list[tuple[str, str]]  # the queue's filters as asked, for a form that acts on them
    today: dt.date
    back: str  # the list as shown: where a bulk action returns

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def select(self) -> str:
        return self.spec.select

    @property
    def change_url(self) -> str:
        return reverse(f"queue_change_{self.spec.key}")


def queue_list(request: HttpRequest, spec: QueueSpec, items: QuerySet | None = None) -> QueueList:
    clerks = clerk_choices(spec)
    form = QueueFilterForm(request.GET or None, clerks=clerks)
    today = timezone.localdate()
    rows = queue_view(spec, form.view(), user=request.user, today=today, items=items)
    keep = [(k, v) for k, v in request.GET.items() if k not in (*QUEUE_PARAMS, "page") and v]
    asked = [(k, request.GET[k]) for k in QUEUE_PARAMS if request.GET.get(k)]
    return QueueList(
        spec=spec,
        form=form,
        change_form=QueueChangeForm(clerks=clerks),
        rows=rows,
        can_change=request.user.has_perm(spec.work),
        query=urlencode([*keep, *asked]),
        keep=keep,
        asked=asked,
        today=today,
        back=request.get_full_path(),
    )


def queue_page_rows(queue: QueueList, rows: list[Any]) -> list[Any]:
    """The page's items, each with `work_assignee_name` and `work_overdue` (one query)."""
    names = assignee_names({r.work_assignee_id for r in rows if r.work_assignee_id})
    for row in rows:
        row.work_assignee_name = names.get(row.work_assignee_id, "")
        row.work_overdue = row.work_due is not None and row.work_due < queue.today
    return rows


def clerk_of(value: str) -> User | None:
    """The clerk the form chose (one of `clerk_choices`); whether they work the queue is the
    service's rule, checked there."""
    return User.objects.filter(pk=int(value)).first() if value else None

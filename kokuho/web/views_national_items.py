"""連携の作業項目 (the national links' work items): what a feed holds back or what came back
wrong — 外字, 住基照合（J-LIS）の不一致, 個人番号なし, 副本の未提供 — and their resolution.

Thin: `national.workitems` resolves and audits; 資格継続 items have their own screen
(`views_national`). The list names the person each item is about (the clerk must act on
it), so showing it is an audited access, as on the other lists that name residents; 資格担当
(資格の異動処理) both reads and resolves — the counter has no part in the feeds.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.concurrency import StaleEdit
from kokuho.core.purposes import Purpose
from kokuho.national.models import NationalWorkItem, WorkItemKind
from kokuho.national.workitems import (
    WorkItemError,
    WorkItemRefused,
    jlis_mismatch_confirm,
    jlis_mismatch_resend,
    national_work_item_resolve,
    national_work_item_shown,
    national_work_items_open,
)
from kokuho.people.services import persons_shown_record
from kokuho.web.forms_concurrency import VersionedForm, edit_initial
from kokuho.web.queue import queue_list, queue_page_rows
from kokuho.workqueue.models import Queue
from kokuho.workqueue.queues import QUEUES

# 資格継続 items are resolved on their own screen (accepting carried dates).
CONTINUITY_KINDS = (
    WorkItemKind.CONTINUITY_GAP,
    WorkItemKind.CONTINUITY_OVERLAP,
    WorkItemKind.CONTINUITY_CARRIED,
)
LISTED_KINDS = [k for k in WorkItemKind if k not in CONTINUITY_KINDS]
PAGE = 100


class ReasonForm(VersionedForm):
    reason = forms.CharField(
        label="理由・内容",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        error_messages={
            "required": "理由・内容を入力してください",
            "max_length": "理由・内容は300文字以内で入力してください",
        },
    )


class NoteForm(VersionedForm):
    note = forms.CharField(
        label="修正した内容（任意）",
        max_length=200,
        required=False,
        error_messages={"max_length": "修正した内容は200文字以内で入力してください"},
    )


@require_safe
@requires(Perm.ELIGIBILITY_CHANGE)
def national_work_items(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if kind not in {k.value for k in LISTED_KINDS}:
        kind = ""
    open_items = national_work_items_open(kind=kind or None).exclude(kind__in=CONTINUITY_KINDS)
    queue = queue_list(request, QUEUES[Queue.NATIONAL_ITEMS], open_items)
    counts = dict(
        NationalWorkItem.objects.filter(resolved_at__isnull=True)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    page = Paginator(queue.rows, PAGE).get_page(request.GET.get("page"))
    items = queue_page_rows(queue, list(page.object_list))
    persons_shown_record(
        atena_nos=[item.person.atena_no for item in items if item.person_id],
        actor=request.user,
        purpose=Purpose.NHI_ELIGIBILITY,
        screen="national_work_items",
    )
    context = {
        "page": page,
        "items": items,
        "queue": queue,
        "kind": kind,
        "kinds": [(k.value, k.label, counts.get(k.value, 0)) for k in LISTED_KINDS],
        "continuity": sum(counts.get(k.value, 0) for k in CONTINUITY_KINDS),
    }
    return render(request, "web/national_work_items.html", context)


def _item(item_id: int) -> NationalWorkItem:
    return get_object_or_404(
        NationalWorkItem.objects.select_related("person", "resolved_by").exclude(
            kind__in=CONTINUITY_KINDS
        ),
        pk=item_id,
    )


def _jlis_rows(item: NationalWorkItem) -> list[dict[str, Any]]:
    detail = item.detail or {}
    held, returned = detail.get("held", {}), detail.get("returned", {})
    differs = set(detail.get("differs", []))
    return [
        {"name": name, "held": held.get(name, ""), "returned": returned.get(name, ""),
         "differs": name in differs}
        for name in ("氏名", "カナ", "生年月日", "性別", "住所")
    ]  # fmt: skip


def _detail(request: HttpRequest, item: NationalWorkItem, **forms_: Any) -> HttpResponse:
    if item.person_id:
        audit_event_record(
            event_type=EventType.PERSON_VIEWED,
            actor=request.user,
            subject_type=SubjectType.PERSON,
            subject_id=item.person.atena_no,
            purpose=Purpose.NHI_ELIGIBILITY,
            extra={"screen": "national_work_item", "work_item": item.pk},
        )
    version = edit_initial(item, national_work_item_shown)
    context = {
        "item": item,
        "jlis": item.kind == WorkItemKind.JLIS_MISMATCH,
        "rows": _jlis_rows(item) if item.kind == WorkItemKind.JLIS_MISMATCH else [],
        "note_form": forms_.get("note_form") or NoteForm(initial=version),
        "reason_form": forms_.get("reason_form") or ReasonForm(initial=version),
        "unsaved": forms_.get("unsaved", ""),
    }
    return render(request, "web/national_work_item.html", context, status=forms_.get("status", 200))


@require_safe
@requires(Perm.ELIGIBILITY_CHANGE)
def national_work_item(request: HttpRequest, item_id: int) -> HttpResponse:
    return _detail(request, _item(item_id))


def _done(request: HttpRequest, item: NationalWorkItem, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(reverse("national_work_items") + (f"?kind={item.kind}"))


@require_POST
@requires(Perm.ELIGIBILITY_CHANGE)
def national_work_item_resend(request: HttpRequest, item_id: int) -> HttpResponse:
    item = _item(item_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _detail(request, item, note_form=form, status=400)
    try:
        jlis_mismatch_resend(
            item=item,
            actor=request.user,
            note=form.cleaned_data["note"],
            seen=form.edit_seen(item),
        )
    except StaleEdit as conflict:
        return _conflict(request, item_id, form, conflict, "note_form")
    except (WorkItemError, WorkItemRefused) as error:
        form.add_error(None, str(error))
        return _detail(request, item, note_form=form, status=400)
    return _done(request, item, "修正して再送にしました（次の差分で訂正として送信します）")


@require_POST
@requires(Perm.ELIGIBILITY_CHANGE)
def national_work_item_confirm(request: HttpRequest, item_id: int) -> HttpResponse:
    """理由を付して確認 (J-LIS) or, for any other kind, 解決として記録."""
    item = _item(item_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _detail(request, item, reason_form=form, status=400)
    reason = form.cleaned_data["reason"]
    seen = form.edit_seen(item)
    try:
        if item.kind == WorkItemKind.JLIS_MISMATCH:
            jlis_mismatch_confirm(item=item, actor=request.user, reason=reason, seen=seen)
            message = "理由を付して確認しました（次の差分から本人確認判定 2 で送信します）"
        else:
            national_work_item_resolve(item=item, actor=request.user, resolution=reason, seen=seen)
            message = "解決として記録しました"
    except StaleEdit as conflict:
        return _conflict(request, item_id, form, conflict, "reason_form")
    except (WorkItemError, WorkItemRefused) as error:
        form.add_error(None, str(error))
        return _detail(request, item, reason_form=form, status=400)
    return _done(request, item, message)


def _conflict(
    request: HttpRequest, item_id: int, form: VersionedForm, conflict: StaleEdit, name: str
) -> HttpResponse:
    """The item as it is now, the conflict said, the clerk's text kept in their form."""
    current = _item(item_id)
    form.rebase(current, national_work_item_shown, conflict)
    typed = form.data.get("reason" if name == "reason_form" else "note", "")
    # Resolved meanwhile, the page has no form left: what was typed is shown, not dropped.
    unsaved = typed if current.resolved_at is not None else ""
    return _detail(request, current, **{name: form, "status": 409, "unsaved": unsaved})

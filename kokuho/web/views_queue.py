"""作業キューの一括操作: give the ticked items of a list to a clerk, set their 期限, or take
them back; then back to the list as it was shown."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kokuho.accounts.decorators import requires
from kokuho.web.queue import QueueChangeForm, clerk_choices, clerk_of
from kokuho.workqueue.queues import QueueSpec
from kokuho.workqueue.selectors import clerk_name
from kokuho.workqueue.services import Change, WorkChange, WorkError, work_change

DONE = {
    Change.ASSIGN: "{n} 件を {who} さんの担当にしました。",
    Change.DUE: "{n} 件の期限を変更しました。",
    Change.RELEASE: "{n} 件の担当を外しました。",
}


def queue_change_view(spec: QueueSpec) -> Callable[[HttpRequest], HttpResponse]:
    """The bulk action of one queue, behind that queue's own right (so the middleware's
    refusal, training gate and audit apply as to any list of that work)."""

    @require_POST
    @requires(spec.work)
    def queue_change(request: HttpRequest) -> HttpResponse:
        return _change(request, spec)

    queue_change.__name__ = f"queue_change_{spec.key}"
    return queue_change


def _change(request: HttpRequest, spec: QueueSpec) -> HttpResponse:
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    back = back or reverse(spec.url_name)
    form = QueueChangeForm(request.POST, clerks=clerk_choices(spec))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    ids = tuple(int(v) for v in request.POST.getlist(spec.select) if v.isdigit())
    change = Change(form.cleaned_data["change"])
    assignee = clerk_of(form.cleaned_data["clerk"])
    try:
        count = work_change(
            spec=spec,
            change=WorkChange(change, ids, assignee, form.cleaned_data["due_on"]),
            actor=request.user,
            today=timezone.localdate(),
        )
    except WorkError as error:
        messages.error(request, str(error))
    else:
        who = clerk_name(assignee) if assignee else ""
        messages.success(request, DONE[change].format(n=count, who=who))
    return redirect(back)

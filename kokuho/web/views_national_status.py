"""連携状況 (the national links' status screen): per feed the last file, what has no 処理結果
yet, open work items and the alert — the same as `kokuho national status`. It shows files
and counts, never a resident: 資格担当 (who sends the feeds) and 運用支援 (who keeps the
link PC running) both read it."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.national.selectors import national_overview


@require_safe
@requires(Perm.SYSTEM_STATUS_VIEW)
def national_status_view(request: HttpRequest) -> HttpResponse:
    return render(request, "web/national_status.html", {"overview": national_overview()})

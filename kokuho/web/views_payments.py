"""支払処理 screens (給付担当 only): the payment runs with their files, the held and returned
payments (work items), and downloading a run's file.

Thin and read-only: runs are made by `kokuho payments run`; these pages show what the
payments context recorded. A run's file is served only when its name is one the run lists
(`run.files` / `run.prints`), from the path the run recorded — never a path built from the
URL — as an attachment that no cache keeps.
"""

import mimetypes
from typing import Any

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.benefits.kogaku.selectors import kogaku_households_shown
from kokuho.core.purposes import Purpose
from kokuho.payments.models import HoldReason, Payment, PaymentRun, PaymentStatus
from kokuho.payments.run import payment_run_file as payment_run_file_fetch
from kokuho.payments.run import payment_run_json

RUNS_PER_PAGE = 20
HELD_PER_PAGE = 100
WORK_ITEMS = (PaymentStatus.HELD, PaymentStatus.RETURNED)


def _file_names(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["name"] for entry in entries if entry.get("name")]


@require_safe
@requires(Perm.PAYMENTS_VIEW)
def payment_runs(request: HttpRequest) -> HttpResponse:
    """支払処理の一覧: each 支払日 with its totals per benefit and its files."""
    runs = Paginator(
        PaymentRun.objects.select_related("requested_by__staff_profile").order_by(
            "-pay_date", "-pk"
        ),
        RUNS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    rows = []
    for run in runs:
        summary = payment_run_json(run)
        rows.append(
            {
                "run": run,
                "benefits": [
                    (label, summary["counts"].get(label, 0), total)
                    for label, total in sorted(summary["totals"].items())
                ],
                "files": _file_names(run.files),
                "prints": _file_names(run.prints),
            }
        )
    counts = {
        status: Payment.objects.filter(status=status).count()
        for status in (PaymentStatus.DUE, *WORK_ITEMS)
    }
    context = {
        "runs": runs,
        "rows": rows,
        "due": counts[PaymentStatus.DUE],
        "held": counts[PaymentStatus.HELD],
        "returned": counts[PaymentStatus.RETURNED],
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/payments/runs.html", context)


@require_safe
@requires(Perm.PAYMENTS_VIEW)
def payments_held(request: HttpRequest) -> HttpResponse:
    """保留・振込不能の支払: who, which benefit, how much, and why it is not paid."""
    status = request.GET.get("status", "")
    statuses = [status] if status in WORK_ITEMS else list(WORK_ITEMS)
    payments = Paginator(
        Payment.objects.filter(status__in=statuses)
        .select_related("person__household", "account")
        .order_by("decided_on", "pk"),
        HELD_PER_PAGE,
    ).get_page(request.GET.get("page"))
    kogaku_households_shown(
        household_nos=sorted({p.person.household.household_no for p in payments}),
        actor=request.user,
        screen="payments_held",
    )
    reasons = dict(HoldReason.choices)
    rows = [(p, reasons.get(p.hold_reason, p.hold_reason)) for p in payments]
    context = {
        "payments": payments,
        "rows": rows,
        "status": status if status in WORK_ITEMS else "",
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/payments/held.html", context)


@require_safe
@requires(Perm.PAYMENTS_VIEW)
def payment_run_file(request: HttpRequest, run_id: int, name: str) -> FileResponse:
    """One of the run's files (全銀 file, 支払明細, printed forms) as a download."""
    run = get_object_or_404(PaymentRun, pk=run_id)
    try:
        path = payment_run_file_fetch(run=run, name=name, actor=request.user)
    except FileNotFoundError as error:
        raise Http404(str(error)) from None
    content_type = (
        "application/octet-stream"
        if name.startswith("zengin-")
        else mimetypes.guess_type(name)[0] or "application/octet-stream"
    )
    response = FileResponse(
        path.open("rb"), as_attachment=True, filename=name, content_type=content_type
    )
    response["Cache-Control"] = "no-store"
    return response

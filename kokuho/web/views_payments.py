"""支払処理 screens (給付担当 only): the payment runs with their files, the held and returned
payments (work items), and downloading a run's file.

Thin and read-only: runs are made by `kokuho payments run`; these pages show what the
payments context recorded. A run's file is served only when its name is one the run lists
(`run.files` / `run.prints`), from the path the run recorded — never a path built from the
URL — as an attachment that no cache keeps.
"""

import mimetypes
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.benefits.kogaku.selectors import kogaku_households_shown
from kokuho.core.purposes import Purpose
from kokuho.payments.models import AccountKind, HoldReason, Payment, PaymentRun, PaymentStatus
from kokuho.payments.returns import payment_reissue
from kokuho.payments.run import payment_run_file as payment_run_file_fetch
from kokuho.payments.run import payment_run_json
from kokuho.payments.services import (
    AccountError,
    AccountInput,
    payee_account_preview,
    payment_account_correct,
)

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
        .select_related("person__household", "organisation", "account")
        .order_by("decided_on", "pk"),
        HELD_PER_PAGE,
    ).get_page(request.GET.get("page"))
    # Organisation payees (施術所, 国保連合会) are no household's personal data.
    kogaku_households_shown(
        household_nos=sorted({p.person.household.household_no for p in payments if p.person_id}),
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


class CorrectAccountForm(forms.Form):
    """訂正後の振込先 (as on the application form; ゆうちょ by 記号・番号)."""

    bank_code = forms.CharField(label="金融機関コード", max_length=4, required=False)
    branch_code = forms.CharField(label="店舗コード", max_length=3, required=False)
    account_type = forms.TypedChoiceField(
        label="預金種目", choices=AccountKind.choices, coerce=int, initial=AccountKind.ORDINARY
    )
    account_number = forms.CharField(label="口座番号", max_length=7, required=False)
    yucho_symbol = forms.CharField(label="ゆうちょ 記号", max_length=6, required=False)
    yucho_number = forms.CharField(label="ゆうちょ 番号", max_length=9, required=False)
    holder_kana = forms.CharField(label="口座名義（カナ）", max_length=60)

    def account(self) -> AccountInput:
        data = self.cleaned_data
        return AccountInput(
            bank_code=data["bank_code"].strip(),
            branch_code=data["branch_code"].strip(),
            account_type=data["account_type"],
            account_number=data["account_number"].strip(),
            holder_kana=data["holder_kana"],
            yucho_symbol=data["yucho_symbol"].strip(),
            yucho_number=data["yucho_number"].strip(),
        )


@require_http_methods(["GET", "POST"])
@requires(Perm.BENEFITS_DECIDE)
def payment_account_correct_view(request: HttpRequest, payment_id: int) -> HttpResponse:
    """口座の訂正: 「確認」 shows the account as it will be kept (the 全銀 name), 「訂正」
    keeps it and releases the payee's held and returned payments."""
    payment = get_object_or_404(
        Payment.objects.select_related("person", "organisation", "account"),
        pk=payment_id,
        status__in=list(WORK_ITEMS),
    )
    form = CorrectAccountForm(request.POST or None)
    preview = None
    if request.method == "POST" and form.is_valid():
        try:
            if request.POST.get("action") == "save":
                _, released = payment_account_correct(
                    payment=payment, account=form.account(), actor=request.user
                )
                messages.success(
                    request, f"口座を訂正しました。支払 {released} 件が次の支払処理の対象です。"
                )
                return redirect("payments_held")
            preview = payee_account_preview(form.account())
        except AccountError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
    context = {"payment": payment, "form": form, "preview": preview}
    return render(request, "web/payments/correct_account.html", context)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def payment_reissue_view(request: HttpRequest, payment_id: int) -> HttpResponse:
    """再振込: a returned payment whose account was confirmed as it was."""
    payment = get_object_or_404(Payment, pk=payment_id, status=PaymentStatus.RETURNED)
    payment_reissue(payment=payment)
    messages.success(request, "次の支払処理で同じ口座に再振込します。")
    return redirect("payments_held")

"""自己点検 (self-inspection) screens.

監査担当 (`SELF_INSPECTION`) runs a month and reads the result; 所属長
(`SELF_INSPECTION_SIGN_OFF`) reads it and signs it off with the checklist. Every view
declares one permission (the middleware enforces it), so the supervisor has read-only views
of their own under /inspections/review/ that render the same templates: a view open to two
rights would need a decorator the permission module does not have, and the URL tells the
trail which role looked. Thin: `kokuho.audit.inspection` decides, stores and audits.
"""

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.audit.inspection import (
    ChecklistAnswer,
    ChecklistItem,
    SelfInspectionError,
    inspection_page,
    inspection_report,
    month_first,
    self_inspection_run,
    self_inspection_runs,
    self_inspection_sign_off,
    self_inspections_by_month,
)
from kokuho.audit.models import SelfInspection
from kokuho.core.pdf import report_pdf

# The two audiences: URL names of their own views, the same templates.
AUDITOR = {"mode": "auditor", "detail": "inspection_detail", "report": "inspection_report"}
SUPERVISOR = {
    "mode": "supervisor",
    "detail": "inspection_review_detail",
    "report": "inspection_review_report",
}


class RunForm(forms.Form):
    month = forms.CharField(label="点検対象月", max_length=7, help_text="例: 2026-10")

    def clean_month(self) -> dt.date:
        text = self.cleaned_data["month"].strip()
        try:
            return dt.datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError("点検対象月は YYYY-MM の形式で入力してください。") from None


class SignOffForm(forms.Form):
    """点検項目 (one 問題なし／要対応 choice and a note each) and the 所見. Every field is
    optional here: completeness is the service's rule, so the screen and the service refuse
    with the same message."""

    comment = forms.CharField(
        label="所見", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(a.value, a.label) for a in ChecklistAnswer]
        for item in ChecklistItem:
            self.fields[f"{item.value}__answer"] = forms.ChoiceField(
                label=item.label, choices=choices, required=False, widget=forms.RadioSelect
            )
            self.fields[f"{item.value}__note"] = forms.CharField(
                label="対応の内容", required=False, max_length=1000
            )

    def checklist_fields(self) -> list[tuple[ChecklistItem, forms.BoundField, forms.BoundField]]:
        return [
            (item, self[f"{item.value}__answer"], self[f"{item.value}__note"])
            for item in ChecklistItem
        ]

    def checklist(self) -> dict[str, dict[str, str]]:
        data = self.cleaned_data
        return {
            item.value: {
                "answer": data.get(f"{item.value}__answer") or "",
                "note": data.get(f"{item.value}__note") or "",
            }
            for item in ChecklistItem
        }


def _list(request: HttpRequest, audience: dict[str, str], **extra: Any) -> HttpResponse:
    context = {
        "audience": audience,
        "months": self_inspections_by_month(),
        "today": timezone.localdate(),
        **extra,
    }
    form = extra.get("form")
    status = 400 if extra.get("error") or (form is not None and form.errors) else 200
    return render(request, "web/inspection_list.html", context, status=status)


@require_GET
@requires(Perm.SELF_INSPECTION)
def inspection_list(request: HttpRequest) -> HttpResponse:
    """自己点検の一覧と実施 (監査担当)."""
    default = month_first(month_first(timezone.localdate()) - dt.timedelta(days=1))
    return _list(request, AUDITOR, form=RunForm(initial={"month": f"{default:%Y-%m}"}))


@require_POST
@requires(Perm.SELF_INSPECTION)
def inspection_run(request: HttpRequest) -> HttpResponse:
    form = RunForm(request.POST)
    if not form.is_valid():
        return _list(request, AUDITOR, form=form)
    try:
        inspection = self_inspection_run(month=form.cleaned_data["month"], actor=request.user)
    except SelfInspectionError as error:
        return _list(request, AUDITOR, form=form, error=str(error))
    messages.success(request, f"{inspection.month:%Y-%m} の自己点検を実施しました。")
    return redirect("inspection_detail", inspection_id=inspection.pk)


@require_GET
@requires(Perm.SELF_INSPECTION_SIGN_OFF)
def inspection_review_list(request: HttpRequest) -> HttpResponse:
    """自己点検の一覧 (所属長: 確認する側, no run form)."""
    return _list(request, SUPERVISOR)


def _detail(
    request: HttpRequest,
    inspection: SelfInspection,
    audience: dict[str, str],
    *,
    form: SignOffForm | None = None,
    error: str = "",
) -> HttpResponse:
    runs = self_inspection_runs(month=inspection.month)
    newest = runs[0] if runs else inspection
    can_sign = (
        audience is SUPERVISOR
        and inspection.signed_at is None
        and inspection.pk == newest.pk
        and inspection.run_by_id != request.user.pk
    )
    context = {
        **inspection_page(inspection=inspection),
        "audience": audience,
        "runs": runs,
        "newest": newest,
        "can_sign": can_sign,
        "form": form or SignOffForm(),
        "error": error,
    }
    return render(request, "web/inspection_detail.html", context, status=400 if error else 200)


@require_GET
@requires(Perm.SELF_INSPECTION)
def inspection_detail(request: HttpRequest, inspection_id: int) -> HttpResponse:
    return _detail(request, get_object_or_404(SelfInspection, pk=inspection_id), AUDITOR)


@require_http_methods(["GET", "POST"])
@requires(Perm.SELF_INSPECTION_SIGN_OFF)
def inspection_review_detail(request: HttpRequest, inspection_id: int) -> HttpResponse:
    """所属長の確認: the same page, with the checklist form (POST signs off)."""
    inspection = get_object_or_404(SelfInspection, pk=inspection_id)
    if request.method != "POST":
        return _detail(request, inspection, SUPERVISOR)
    form = SignOffForm(request.POST)
    if not form.is_valid():
        return _detail(request, inspection, SUPERVISOR, form=form, error="入力を確認してください。")
    try:
        self_inspection_sign_off(
            inspection=inspection,
            actor=request.user,
            checklist=form.checklist(),
            comment=form.cleaned_data["comment"],
        )
    except SelfInspectionError as error:
        return _detail(request, inspection, SUPERVISOR, form=form, error=str(error))
    messages.success(request, f"{inspection.month:%Y-%m} の自己点検を確認しました。")
    return redirect("inspection_review_detail", inspection_id=inspection.pk)


def _download(request: HttpRequest, inspection: SelfInspection, fmt: str) -> HttpResponse:
    """The report as a file: PDF (kokuho.core.pdf) or a stand-alone HTML page."""
    name = f"self-inspection-{inspection.month:%Y-%m}-{inspection.pk}.{fmt}"
    if fmt == "pdf":
        body = report_pdf(inspection_report(inspection=inspection))
        response = HttpResponse(body, content_type="application/pdf")
    elif fmt == "html":
        # The page's <style> travels inside the file (it is opened from disk later); the
        # CSP nonce lets it apply should the browser show the response itself.
        context = inspection_page(inspection=inspection) | {"csp_nonce": get_nonce(request)}
        page = render_to_string("web/inspection_report.html", context)
        response = HttpResponse(page, content_type="text/html; charset=utf-8")
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@requires(Perm.SELF_INSPECTION)
def inspection_report_download(request: HttpRequest, inspection_id: int, fmt: str) -> HttpResponse:
    return _download(request, get_object_or_404(SelfInspection, pk=inspection_id), fmt)


@require_GET
@requires(Perm.SELF_INSPECTION_SIGN_OFF)
def inspection_review_report_download(
    request: HttpRequest, inspection_id: int, fmt: str
) -> HttpResponse:
    return _download(request, get_object_or_404(SelfInspection, pk=inspection_id), fmt)

"""調査・求償の案件 (cases): the queue of open cases and one case with its claims, steps and
the clerk's actions — 返還請求 (the letter), 分割, 収納, 保険者間調整の同意, 終結.

Thin: `cases.services` writes and audits. Showing a case names its person, so opening it
is an audited access (閲覧), as on the other screens that name residents; the list records
the persons it shows. 給付担当 works the cases (給付の決定); 給付の閲覧 reads them. Every
change carries the version the page showed (楽観的排他制御): a case changed since is shown
again with what changed, and the clerk's entries stay in the form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.cases.models import CaseKind, CaseOutcome, CaseStatus, InvestigationCase
from kokuho.cases.report import AGEING_BANDS, MonthRow, cases_report, report_csv
from kokuho.cases.selectors import case_claims, case_row, cases_open
from kokuho.cases.services import (
    CaseError,
    adjustment_consent_record,
    case_close,
    case_shown,
    instalments_agree,
    receipt_record,
    refund_claim_issue,
)
from kokuho.core.concurrency import EditSeen, StaleEdit
from kokuho.core.purposes import Purpose
from kokuho.people.services import persons_shown_record
from kokuho.web.charts import Series, grouped_bars_svg
from kokuho.web.forms import DayField
from kokuho.web.forms_concurrency import VersionedForm, edit_initial
from kokuho.web.queue import queue_list, queue_page_rows
from kokuho.workqueue.models import Queue
from kokuho.workqueue.queues import QUEUES

PAGE = 100


class RefundForm(VersionedForm):
    issued_on = DayField(label="発行日")
    due_on = DayField(label="納期限")


class InstalmentsForm(VersionedForm):
    count = forms.IntegerField(
        label="分割の回数",
        min_value=2,
        max_value=120,
        error_messages={
            "required": "分割の回数を入力してください",
            "invalid": "分割の回数は数字で入力してください",
            "min_value": "分割の回数は2回以上です",
            "max_value": "分割の回数は120回までです",
        },
    )
    first_due = DayField(label="初回の納期限")


class ReceiptForm(VersionedForm):
    amount = forms.IntegerField(
        label="収納額（円）",
        min_value=1,
        error_messages={
            "required": "収納額を入力してください",
            "invalid": "収納額は数字（円）で入力してください",
            "min_value": "収納額は1円以上です",
        },
    )
    received_on = DayField(label="収納日")
    note = forms.CharField(label="備考（任意）", max_length=200, required=False)


class ConsentForm(VersionedForm):
    new_insurer_no = forms.CharField(
        label="新しい保険者の保険者番号",
        max_length=8,
        error_messages={"required": "新しい保険者の保険者番号を入力してください"},
    )
    consented_on = DayField(label="同意書の受理日")


class CloseForm(VersionedForm):
    outcome = forms.ChoiceField(
        label="結果",
        choices=[
            (CaseOutcome.NOT_DUE.value, CaseOutcome.NOT_DUE.label),
            (CaseOutcome.TIME_BARRED.value, CaseOutcome.TIME_BARRED.label),
        ],
        error_messages={
            "required": "結果を選択してください",
            "invalid_choice": "結果の指定が不正です",
        },
    )
    closed_on = DayField(label="終結日")
    note = forms.CharField(
        label="理由",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        error_messages={"required": "終結の理由を入力してください"},
    )


FORMS: dict[str, type[VersionedForm]] = {
    "refund_form": RefundForm,
    "instalments_form": InstalmentsForm,
    "receipt_form": ReceiptForm,
    "consent_form": ConsentForm,
    "close_form": CloseForm,
}


@require_safe
@requires(Perm.BENEFITS_VIEW)
def cases_list(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if kind not in {k.value for k in CaseKind}:
        kind = ""
    queue = queue_list(request, QUEUES[Queue.CASES], cases_open(kind=kind or None))
    counts = dict(
        InvestigationCase.objects.exclude(status=CaseStatus.CLOSED)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    page = Paginator(queue.rows, PAGE).get_page(request.GET.get("page"))
    cases = queue_page_rows(queue, list(page.object_list))
    persons_shown_record(
        atena_nos=[case.person.atena_no for case in cases],
        actor=request.user,
        purpose=Purpose.NHI_BENEFITS,
        screen="cases_list",
    )
    context = {
        "page": page,
        "cases": [(case, case_row(case)) for case in cases],
        "queue": queue,
        "kind": kind,
        "kinds": [(k.value, k.label, counts.get(k.value, 0)) for k in CaseKind],
    }
    return render(request, "web/cases_list.html", context)


def _case(case_id: int) -> InvestigationCase:
    return get_object_or_404(
        InvestigationCase.objects.select_related("person", "household"), pk=case_id
    )


def _detail(request: HttpRequest, case: InvestigationCase, **given: Any) -> HttpResponse:
    audit_event_record(
        event_type=EventType.PERSON_VIEWED,
        actor=request.user,
        subject_type=SubjectType.PERSON,
        subject_id=case.person.atena_no,
        purpose=Purpose.NHI_BENEFITS,
        extra={"screen": "case_detail", "case": case.pk},
    )
    version = edit_initial(case, case_shown)
    context: dict[str, Any] = {
        "case": case,
        "row": case_row(case),
        "claims": case_claims(case),
        "steps": case.steps.select_related("by").order_by("at", "pk"),
        "instalments": case.detail.get("instalments", []),
        "notices": case.detail.get("notices", []),
        "open": case.status != CaseStatus.CLOSED,
        "can_change": request.user.has_perm(Perm.BENEFITS_DECIDE.value),
        "unsaved": given.get("unsaved", ""),
    }
    for name, form in FORMS.items():
        context[name] = given.get(name) or form(initial=version)
    return render(request, "web/case_detail.html", context, status=given.get("status", 200))


@require_safe
@requires(Perm.BENEFITS_VIEW)
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    return _detail(request, _case(case_id))


Action = Callable[[InvestigationCase, dict[str, Any], EditSeen], None]


def _act(request: HttpRequest, case_id: int, name: str, action: Action, done: str) -> HttpResponse:
    """One action's POST: the form, the service, the conflict or refusal shown on the case
    (with the clerk's entries kept; listed apart when the case closed meanwhile and the page
    has no form left)."""
    case = _case(case_id)
    form = FORMS[name](request.POST)
    if not form.is_valid():
        return _detail(request, case, **{name: form, "status": 400})
    try:
        action(case, form.cleaned_data, form.edit_seen(case))
    except StaleEdit as conflict:
        current = _case(case_id)
        form.rebase(current, case_shown, conflict)
        unsaved = ""
        if current.status == CaseStatus.CLOSED:
            unsaved = "、".join(
                f"{field.label} {form.data.get(field.name)}"
                for field in form.visible_fields()
                if form.data.get(field.name)
            )
        return _detail(request, current, **{name: form, "status": 409, "unsaved": unsaved})
    except CaseError as refused:
        form.add_error(None, str(refused))
        return _detail(request, case, **{name: form, "status": 400})
    messages.success(request, done)
    return redirect(reverse("case_detail", args=[case_id]))


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def case_refund(request: HttpRequest, case_id: int) -> HttpResponse:
    def act(case: InvestigationCase, data: dict[str, Any], seen: EditSeen) -> None:
        refund_claim_issue(
            case_id=case.pk,
            issued_on=data["issued_on"],
            due_on=data["due_on"],
            actor=request.user,
            seen=seen,
        )

    message = "返還金の納入通知を作成しました（PDF を印刷して郵送してください）"
    return _act(request, case_id, "refund_form", act, message)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def case_instalments(request: HttpRequest, case_id: int) -> HttpResponse:
    def act(case: InvestigationCase, data: dict[str, Any], seen: EditSeen) -> None:
        instalments_agree(
            case_id=case.pk,
            count=data["count"],
            first_due=data["first_due"],
            actor=request.user,
            seen=seen,
        )

    return _act(request, case_id, "instalments_form", act, "分割納付を記録しました")


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def case_receipt(request: HttpRequest, case_id: int) -> HttpResponse:
    def act(case: InvestigationCase, data: dict[str, Any], seen: EditSeen) -> None:
        receipt_record(
            case_id=case.pk,
            amount_yen=data["amount"],
            received_on=data["received_on"],
            actor=request.user,
            note=data["note"],
            seen=seen,
        )

    return _act(request, case_id, "receipt_form", act, "収納を記録しました")


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def case_consent(request: HttpRequest, case_id: int) -> HttpResponse:
    def act(case: InvestigationCase, data: dict[str, Any], seen: EditSeen) -> None:
        adjustment_consent_record(
            case_id=case.pk,
            new_insurer_no=data["new_insurer_no"],
            consented_on=data["consented_on"],
            actor=request.user,
            seen=seen,
        )

    return _act(request, case_id, "consent_form", act, "保険者間調整の同意を記録しました")


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def case_close_view(request: HttpRequest, case_id: int) -> HttpResponse:
    def act(case: InvestigationCase, data: dict[str, Any], seen: EditSeen) -> None:
        case_close(
            case_id=case.pk,
            outcome=CaseOutcome(data["outcome"]),
            on=data["closed_on"],
            actor=request.user,
            note=data["note"],
            seen=seen,
        )

    return _act(request, case_id, "close_form", act, "案件を終結しました")


@require_safe
@requires(Perm.BENEFITS_DECIDE)
def case_notice(request: HttpRequest, case_id: int, number: int) -> HttpResponse:
    """The case's n-th 返還金の納入通知 (PDF) as it was issued; its SHA-256 checked first."""
    case = _case(case_id)
    notices = case.detail.get("notices", [])
    if not 1 <= number <= len(notices):
        raise Http404("通知がありません")
    notice = notices[number - 1]
    path = Path(notice["path"])
    try:
        content = path.read_bytes()
    except OSError:
        raise Http404("通知のファイルがありません") from None
    if hashlib.sha256(content).hexdigest() != notice["sha256"]:
        raise Http404("通知のファイルが記録と一致しません")
    audit_event_record(
        event_type=EventType.CASE_STEP,
        actor=request.user,
        subject_type=SubjectType.PERSON,
        subject_id=case.person.atena_no,
        purpose=Purpose.NHI_BENEFITS,
        extra={"case": case.pk, "kind": case.kind, "step": "notice_fetched",
               "notice": notice["notice_no"]},
    )  # fmt: skip
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{notice["notice_no"]}.pdf"'
    return response


def _report_months(request: HttpRequest) -> tuple[dt.date, dt.date, str]:
    """The report's months from ?from=YYYY-MM&to=YYYY-MM (the last 12 by default), and an
    error message for what could not be read."""
    today = timezone.localdate().replace(day=1)
    default_first = (today - dt.timedelta(days=335)).replace(day=1)
    months, error = [], ""
    for name, default in (("from", default_first), ("to", today)):
        text = request.GET.get(name, "")
        try:
            months.append(dt.date.fromisoformat(f"{text}-01") if text else default)
        except ValueError:
            error = f"月は YYYY-MM で指定してください（{text}）"
            months.append(default)
    first, last = months
    if first > last:
        error, first, last = "開始の月が終了の月より後です", default_first, today
    if (last.year - first.year) * 12 + last.month - first.month >= 36:
        error, first = (
            "表示できるのは36か月までです",
            (last - dt.timedelta(days=31 * 35)).replace(day=1),
        )
    return first, last, error


@require_safe
@requires(Perm.BENEFITS_VIEW)
def cases_report_view(request: HttpRequest) -> HttpResponse:
    """案件の月次報告: per kind and month, with charts; counts and amounts only (no person)."""
    first, last, error = _report_months(request)
    report = cases_report(first=first, last=last)
    if request.GET.get("format") == "csv":
        response = HttpResponse(report_csv(report), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="cases-report-{first:%Y%m}-{last:%Y%m}.csv"'
        )
        return response
    by_kind: dict[str, list[tuple[dt.date, MonthRow]]] = {}
    for kind_value, _label, month, figures in report.rows():
        by_kind.setdefault(kind_value, []).append((month, figures))
    kinds = []
    for kind in CaseKind:
        months = [month for month, _r in by_kind[kind.value]]
        rows = [figures for _m, figures in by_kind[kind.value]]
        labels = [f"{m:%y/%m}" for m in months]
        kinds.append(
            {
                "label": kind.label,
                "rows": by_kind[kind.value],
                "counts": grouped_bars_svg(
                    title=f"{kind.label}: 開始・終結の件数",
                    categories=labels,
                    series=[
                        Series("開始", [r.opened for r in rows], "bar-a"),
                        Series("終結", [r.closed for r in rows], "bar-b"),
                    ],
                    unit="件",
                ),
                "amounts": grouped_bars_svg(
                    title=f"{kind.label}: 請求額・収納額",
                    categories=labels,
                    series=[
                        Series("請求額", [r.claimed_yen for r in rows], "bar-a"),
                        Series("収納額", [r.recovered_yen for r in rows], "bar-b"),
                    ],
                    unit="円",
                ),
                "ageing": list(
                    zip(
                        [label for _low, _high, label in AGEING_BANDS],
                        report.ageing[kind.value],
                        strict=True,
                    )
                ),
            }
        )
    context = {
        "report": report,
        "kinds": kinds,
        "error": error,
        "first": f"{first:%Y-%m}",
        "last": f"{last:%Y-%m}",
    }
    return render(request, "web/cases_report.html", context, status=400 if error else 200)

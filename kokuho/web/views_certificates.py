"""証・通知 screens (資格担当; 窓口担当 issues at the counter): a person's documents with
their マイナ保険証 status, counter issuance and reissue, 認定証 applications, returns, the
list of documents asked back, the yearly renewal with its progress, and printing.

Thin: forms parse 和暦 or 西暦 dates; `certificates.services` decide and audit. Pages (GET)
need 資格の閲覧; every change is a POST that needs 資格の異動処理.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.certificates.models import (
    CERTIFICATE_TYPES,
    Delivery,
    Disease,
    DocumentType,
    IssuedDocument,
    IssueReason,
    MynaStatus,
    RenewalRun,
)
from kokuho.certificates.printing import documents_render
from kokuho.certificates.renewal import renewal_run_submit
from kokuho.certificates.return_letters import (
    RETURN_LETTER_BATCH,
    return_letters_due_count,
    return_letters_print,
)
from kokuho.certificates.selectors import (
    person_documents_view,
    renewal_runs_recent,
)
from kokuho.certificates.services import (
    DocumentError,
    basic_document_issue,
    certificate_apply,
    certificate_reissue,
    document_return_record,
    myna_status_record,
    renewal_month_day,
)
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import WarekiError, format_wareki, parse_date
from kokuho.people.services import person_view, persons_shown_record
from kokuho.web.queue import queue_list, queue_page_rows
from kokuho.workqueue.models import Queue
from kokuho.workqueue.queues import QUEUES

RETURNS_PAGE = 200


class WarekiDateField(forms.CharField):
    """A date typed as 和暦 (R8.8.1, 令和8年8月1日) or 西暦 (2026-08-01)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("help_text", "例: R8.8.1 / 2026-08-01")
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        try:
            return parse_date(text.strip())
        except WarekiError as error:
            raise forms.ValidationError(str(error)) from None


class MynaForm(forms.Form):
    status = forms.ChoiceField(label="マイナ保険証の登録状況", choices=MynaStatus.choices)
    as_of = WarekiDateField(label="状況の基準日")
    requested = forms.BooleanField(label="資格確認書の交付申請あり（要配慮者）", required=False)


class IssueForm(forms.Form):
    reason = forms.ChoiceField(
        label="交付事由",
        choices=[
            (IssueReason.NEW, IssueReason.NEW.label),
            (IssueReason.REISSUE, IssueReason.REISSUE.label),
            (IssueReason.CHANGE, IssueReason.CHANGE.label),
        ],
    )
    delivery = forms.ChoiceField(label="交付方法", choices=Delivery.choices)
    show_category = forms.BooleanField(
        label="資格確認書に限度額適用区分を記載する（本人の希望）", required=False
    )


class CertificateForm(forms.Form):
    doc_type = forms.ChoiceField(
        label="認定証の種類", choices=[(t.value, t.label) for t in CERTIFICATE_TYPES]
    )
    applied_on = WarekiDateField(label="申請日")
    disease = forms.ChoiceField(
        label="認定疾病（特定疾病のみ）",
        choices=[("", "—"), *Disease.choices],
        required=False,
    )
    opinion_received = forms.BooleanField(label="医師の意見書を受領", required=False)
    long_stay_days = forms.IntegerField(
        label="過去12か月の入院日数（減額認定証の長期入院）",
        min_value=0,
        max_value=366,
        required=False,
    )
    delivery = forms.ChoiceField(label="交付方法", choices=Delivery.choices)


class ReturnForm(forms.Form):
    returned_on = WarekiDateField(label="返還日")


class RenewalForm(forms.Form):
    renewal_date = WarekiDateField(label="更新日（新しい有効期間の初日）")


def _person(request: HttpRequest, atena_no: str, screen: str):
    return person_view(
        atena_no=atena_no, actor=request.user, purpose=Purpose.NHI_ELIGIBILITY, screen=screen
    ).person


def _page(request: HttpRequest, person, **forms_given) -> HttpResponse:
    view = person_documents_view(person=person)
    today = format_wareki(timezone.localdate())
    myna = view.myna
    context = {
        "view": view,
        "person": person,
        "myna_form": forms_given.get("myna_form")
        or MynaForm(
            initial={
                "status": myna.status if myna else MynaStatus.UNREGISTERED,
                "as_of": today,
                "requested": bool(myna and myna.kakuninsho_requested_on),
            }
        ),
        "issue_form": forms_given.get("issue_form")
        or IssueForm(initial={"delivery": Delivery.COUNTER}),
        "certificate_form": forms_given.get("certificate_form")
        or CertificateForm(initial={"applied_on": today, "delivery": Delivery.COUNTER}),
        "return_form": ReturnForm(initial={"returned_on": today}),
        "can_change": request.user.has_perm(Perm.ELIGIBILITY_CHANGE),
        "certificate_types": [t.value for t in CERTIFICATE_TYPES],
    }
    return render(request, "web/documents_person.html", context)


@require_safe
@requires(Perm.ELIGIBILITY_VIEW)
def documents_person(request: HttpRequest, atena_no: str) -> HttpResponse:
    return _page(request, _person(request, atena_no, "documents_person"))


@require_POST
@requires(Perm.ELIGIBILITY_CHANGE)
def documents_myna(request: HttpRequest, atena_no: str) -> HttpResponse:
    person = _person(request, atena_no, "documents_myna")
    form = MynaForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            myna_status_record(
                person=person,
                status=MynaStatus(data["status"]),
                as_of=data["as_of"],
                actor=request.user,
                kakuninsho_requested_on=timezone.localdate() if data["requested"] else None,
            )
        except DocumentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "マイナ保険証の登録状況を記録しました。")
            return redirect("documents_person", atena_no=atena_no)
    return _page(request, person, myna_form=form)


@require_POST
@requires(Perm.ELIGIBILITY_CHANGE)
def documents_issue_basic(request: HttpRequest, atena_no: str) -> HttpResponse:
    person = _person(request, atena_no, "documents_issue")
    form = IssueForm(request.POST)
    if form.is_valid():
        try:
            document = basic_document_issue(
                person=person,
                on=timezone.localdate(),
                reason=IssueReason(form.cleaned_data["reason"]),
                delivery=Delivery(form.cleaned_data["delivery"]),
                actor=request.user,
                show_category=form.cleaned_data["show_category"],
            )
        except DocumentError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"{document.get_doc_type_display()}（交付番号 {document.serial}）を交付しました。",
            )
            return redirect("documents_person", atena_no=atena_no)
    return _page(request, person, issue_form=form)


@require_POST
@requires(Perm.ELIGIBILITY_CHANGE)
def documents_certificate(request: HttpRequest, atena_no: str) -> HttpResponse:
    person = _person(request, atena_no, "documents_certificate")
    form = CertificateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            application, document = certificate_apply(
                person=person,
                doc_type=DocumentType(data["doc_type"]),
                applied_on=data["applied_on"],
                actor=request.user,
                delivery=Delivery(data["delivery"]),
                disease=data["disease"] or "",
                opinion_received=data["opinion_received"],
                long_stay_days=data["long_stay_days"],
            )
        except DocumentError as error:
            form.add_error(None, str(error))
        else:
            if document is None:
                messages.warning(request, f"申請を却下しました: {application.refusal_reason}")
            else:
                label = document.get_doc_type_display()
                messages.success(request, f"{label}（交付番号 {document.serial}）を交付しました。")
            return redirect("documents_person", atena_no=atena_no)
    return _page(request, person, certificate_form=form)


def _document(serial: str) -> IssuedDocument:
    return get_object_or_404(IssuedDocument.objects.select_related("person"), serial=serial)


@require_POST
@requires(Perm.ELIGIBILITY_CHANGE)
def document_reissue(request: HttpRequest, serial: str) -> HttpResponse:
    document = _document(serial)
    try:
        new = certificate_reissue(document=document, on=timezone.localdate(), actor=request.user)
    except DocumentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"再交付しました（交付番号 {new.serial}）。")
    return redirect("documents_person", atena_no=document.person.atena_no)


@require_POST
@requires(Perm.ELIGIBILITY_CHANGE)
def document_return(request: HttpRequest, serial: str) -> HttpResponse:
    document = _document(serial)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            document_return_record(
                document, returned_on=form.cleaned_data["returned_on"], actor=request.user
            )
        except DocumentError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"交付番号 {document.serial} の返還を記録しました。")
    else:
        messages.error(request, "返還日を確認してください。")
    if request.POST.get("from") == "returns":
        return redirect("documents_returns")
    return redirect("documents_person", atena_no=document.person.atena_no)


@require_safe
@requires(Perm.ELIGIBILITY_VIEW)
def document_pdf(request: HttpRequest, serial: str) -> HttpResponse:
    """The document as recorded, for the counter's printer (no address block)."""
    document = _document(serial)
    content = documents_render([document], mailed=False)
    audit_event_record(
        event_type=EventType.CERTIFICATE_PRINTED,
        actor=request.user,
        subject_type=SubjectType.PERSON,
        subject_id=document.person.atena_no,
        purpose=Purpose.NHI_ELIGIBILITY,
        extra={"serial": document.serial, "screen": "document_pdf"},
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document.serial}.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_safe
@requires(Perm.ELIGIBILITY_VIEW)
def documents_returns(request: HttpRequest) -> HttpResponse:
    """返還未済の一覧."""
    queue = queue_list(request, QUEUES[Queue.DOCUMENT_RETURNS])
    page = Paginator(queue.rows, RETURNS_PAGE).get_page(request.GET.get("page"))
    rows = queue_page_rows(queue, list(page.object_list))
    persons_shown_record(
        atena_nos=[d.person.atena_no for d in rows],
        actor=request.user,
        purpose=Purpose.NHI_ELIGIBILITY,
        screen="documents_returns",
    )
    letters_due = return_letters_due_count()
    context = {
        "rows": rows,
        "page": page,
        "queue": queue,
        "return_form": ReturnForm(initial={"returned_on": format_wareki(timezone.localdate())}),
        "can_change": request.user.has_perm(Perm.ELIGIBILITY_CHANGE),
        "letters_due": letters_due,
        "letters_batch": min(letters_due, RETURN_LETTER_BATCH),
    }
    return render(request, "web/documents_returns.html", context)


@require_POST
@requires(Perm.ELIGIBILITY_CHANGE)
def documents_return_letters(request: HttpRequest) -> HttpResponse:
    """返還のお願い: the due letters as one PDF, their documents marked as written to."""
    try:
        content, count = return_letters_print(actor=request.user)
    except (DocumentError, ValueError) as error:
        messages.error(request, str(error))
        return redirect("documents_returns")
    if not count:
        messages.info(request, "印刷する返還のお願いはありません。")
        return redirect("documents_returns")
    name = f"henkan-onegai-{timezone.localdate():%Y%m%d}.pdf"
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


def _default_renewal() -> str:
    today = timezone.localdate()
    month, day = renewal_month_day()
    upcoming = dt.date(today.year, month, day)
    if upcoming < today:
        upcoming = dt.date(today.year + 1, month, day)
    return format_wareki(upcoming)


@require_safe
@requires(Perm.ELIGIBILITY_VIEW)
def documents_renewals(request: HttpRequest) -> HttpResponse:
    return _renewals(request, RenewalForm(initial={"renewal_date": _default_renewal()}))


def _renewals(request: HttpRequest, form: RenewalForm) -> HttpResponse:
    context = {
        "runs": renewal_runs_recent(),
        "form": form,
        "can_change": request.user.has_perm(Perm.ELIGIBILITY_CHANGE),
    }
    return render(request, "web/documents_renewals.html", context)


@require_POST
@requires(Perm.ELIGIBILITY_CHANGE)
def documents_renewal_start(request: HttpRequest) -> HttpResponse:
    form = RenewalForm(request.POST)
    if not form.is_valid():
        return _renewals(request, form)
    run = renewal_run_submit(renewal_date=form.cleaned_data["renewal_date"], actor=request.user)
    messages.success(request, f"{format_wareki(run.renewal_date)}の一斉更新を受け付けました。")
    return redirect("documents_renewal_detail", run_id=run.pk)


@require_safe
@requires(Perm.ELIGIBILITY_VIEW)
def documents_renewal_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """A renewal: progress while open (htmx polls the fragment), then counts and batches."""
    run = get_object_or_404(RenewalRun.objects.select_related("requested_by"), pk=run_id)
    context = {"run": run, "is_open": run.status in ("queued", "running")}
    if request.htmx:
        response = render(request, "web/_documents_renewal.html", context)
        if not context["is_open"]:
            response["HX-Refresh"] = "true"
        return response
    context["batches"] = list(run.batches.order_by("seq"))
    context["issued_labels"] = [
        (DocumentType(t).label, n) for t, n in sorted((run.counts or {}).get("issued", {}).items())
    ]
    return render(request, "web/documents_renewal.html", context)

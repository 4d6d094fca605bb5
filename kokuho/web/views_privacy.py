"""開示等請求 screens (資格担当) and the export register (外部出力記録, 監査担当).

Thin: forms parse 和暦 or 西暦 dates; `subject_requests.services` decides and writes the
audit events; producing a 開示資料 is an export and needs 個人情報の外部出力 (and so an
MFA-verified session, enforced by the middleware like every export right).
"""

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.interfaces.exports import ExportRefused, exports_between
from kokuho.subject_requests.models import (
    OUTCOMES_BY_KIND,
    Outcome,
    RequesterKind,
    RequestKind,
    RequestStatus,
    SubjectRequest,
)
from kokuho.subject_requests.selectors import subject_request_due, subject_requests_list
from kokuho.subject_requests.services import (
    RequestError,
    disclosure_produce,
    subject_request_decide,
    subject_request_receive,
    subject_request_withdraw,
)
from kokuho.web.views_audit import DATE_HELP, _day


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label="請求の種類", choices=RequestKind.choices)
    atena_no = forms.CharField(label="対象者の宛名番号", max_length=15)
    received_on = forms.CharField(label="請求日（受付日）", max_length=30, help_text=DATE_HELP)
    requester = forms.ChoiceField(label="請求者", choices=RequesterKind.choices)
    identity_documents = forms.CharField(
        label="本人確認に用いた書類の種類",
        max_length=200,
        help_text="例: マイナンバーカード（書類の番号は記録しません）",
    )
    details = forms.CharField(label="請求の内容", widget=forms.Textarea(attrs={"rows": 4}))

    def clean_received_on(self) -> dt.date:
        day = _day(self.cleaned_data["received_on"])
        if day is None:
            raise forms.ValidationError("請求日を入力してください。")
        return day


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label="決定", choices=Outcome.choices)
    decided_on = forms.CharField(label="決定日", max_length=30, help_text=DATE_HELP)
    reason = forms.CharField(
        label="理由（一部でも認めない場合は必須）",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: object, kind: str, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        allowed = OUTCOMES_BY_KIND[kind]
        self.fields["outcome"].choices = [c for c in Outcome.choices if c[0] in allowed]

    def clean_decided_on(self) -> dt.date:
        day = _day(self.cleaned_data["decided_on"])
        if day is None:
            raise forms.ValidationError("決定日を入力してください。")
        return day


def _apply_error(form: forms.Form, error: RequestError) -> None:
    form.add_error(error.field if error.field in form.fields else None, str(error))


@requires(Perm.SUBJECT_REQUEST_MANAGE)
def subject_request_list(request: HttpRequest) -> HttpResponse:
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = subject_request_receive(
                kind=RequestKind(data["kind"]),
                atena_no=data["atena_no"].strip(),
                received_on=data["received_on"],
                requester=RequesterKind(data["requester"]),
                identity_documents=data["identity_documents"],
                details=data["details"],
                actor=request.user,
            )
        except RequestError as error:
            _apply_error(form, error)
        else:
            messages.success(request, f"{created.get_kind_display()}を受け付けました。")
            return redirect("subject_request_detail", created.pk)
    today = timezone.localdate()
    context = {"rows": subject_requests_list(on=today), "form": form, "today": today}
    return render(request, "web/subject_request_list.html", context)


@requires(Perm.SUBJECT_REQUEST_MANAGE)
def subject_request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    subject = get_object_or_404(SubjectRequest, pk=request_id)
    form = DecisionForm(request.POST or None, kind=subject.kind)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subject_request_decide(
                request=subject,
                outcome=Outcome(data["outcome"]),
                decided_on=data["decided_on"],
                reason=data["reason"],
                actor=request.user,
            )
        except RequestError as error:
            _apply_error(form, error)
        else:
            messages.success(request, "決定を記録しました。")
            return redirect("subject_request_detail", subject.pk)
    context = {
        "subject": subject,
        "due": subject_request_due(request=subject),
        "form": form,
        "is_open": subject.status == RequestStatus.RECEIVED,
        "can_produce": subject.kind == RequestKind.DISCLOSURE
        and subject.status != RequestStatus.WITHDRAWN
        and subject.outcome not in (Outcome.NOT_DISCLOSED, Outcome.NOT_HELD),
    }
    return render(request, "web/subject_request_detail.html", context)


@require_POST
@requires(Perm.SUBJECT_REQUEST_MANAGE)
def subject_request_withdrawn(request: HttpRequest, request_id: int) -> HttpResponse:
    subject = get_object_or_404(SubjectRequest, pk=request_id)
    try:
        subject_request_withdraw(request=subject, actor=request.user)
    except RequestError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "取下げを記録しました。")
    return redirect("subject_request_detail", subject.pk)


@require_POST
@requires(Perm.PERSONAL_DATA_EXPORT)
def disclosure_download(request: HttpRequest, request_id: int, fmt: str) -> HttpResponse:
    """開示資料 (PDF/JSON) as an attachment; POST because producing it is an export that
    the register records. Never cached."""
    subject = get_object_or_404(SubjectRequest, pk=request_id)
    try:
        export = disclosure_produce(request=subject, fmt=fmt, actor=request.user)
    except (RequestError, ExportRefused) as error:
        messages.error(request, str(error))
        return redirect("subject_request_detail", subject.pk)
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
    response["Cache-Control"] = "no-store"
    return response


@requires(Perm.AUDIT_VIEW)
def export_register_list(request: HttpRequest) -> HttpResponse:
    """外部出力記録: every export, newest first (the last 500)."""
    return render(request, "web/export_register.html", {"records": list(exports_between()[:500])})

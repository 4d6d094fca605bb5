"""給付の申請・審査・決定 screens for 葬祭費, 出産育児一時金 and 療養費 (給付担当; 窓口担当 reads).

Thin: the forms parse 和暦 or 西暦 dates, integers and checkboxes; `benefits.lifecycle`
services register, tick attachments and decide (and write the audit events); the account
is shown through `payee_account_preview` before anything is kept. As on the 高額療養費
screens, the pages (GET) need 給付の閲覧 and every change is a POST needing 給付の決定 —
the entry form (GET and its 確認/登録 POSTs) is one URL and needs 給付の決定.
"""

import datetime as dt
import unicodedata
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.benefits.kogaku.selectors import kogaku_households_shown
from kokuho.benefits.lifecycle.models import (
    ApplicationStatus,
    BenefitApplication,
    BenefitDecision,
)
from kokuho.benefits.lifecycle.notice_data import benefit_notices_pdf
from kokuho.benefits.lifecycle.selectors import (
    benefit_application_shown,
    benefit_applications_in_review,
)
from kokuho.benefits.lifecycle.services import (
    PAYMENT_SOURCE,
    BenefitError,
    attachments_for,
    attachments_missing,
    benefit_application_register,
    benefit_attachments_receive,
    benefit_decide,
)
from kokuho.core.concurrency import StaleEdit
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import format_both, format_wareki
from kokuho.payments.models import AccountKind, Benefit, Payment
from kokuho.payments.services import AccountError, AccountInput, payee_account_preview
from kokuho.people.models import Person
from kokuho.people.services import person_view
from kokuho.web.forms import DayField
from kokuho.web.forms_concurrency import VersionedForm, edit_initial
from kokuho.web.lifecycle_facts import EVENT_LABELS, FACTS, SHOWN_FACTS, Fact
from kokuho.web.queue import queue_list, queue_page_rows
from kokuho.web.views_audit import DATE_HELP
from kokuho.workqueue.models import Queue
from kokuho.workqueue.queues import QUEUES

APPLICATIONS_PER_PAGE = 50
RECENT_DECIDED_DAYS = 180  # decided applications stay on the list this long after 受付
RECENT_DECIDED_SHOWN = 100


def _benefit_or_404(benefit: str) -> Benefit:
    if benefit not in FACTS:  # 高額介護合算 is applied for from its yearly result
        raise Http404("この給付は扱いません")
    return Benefit(benefit)


# --- フォームの部品 ------------------------------------------------------------------------


class NumberField(forms.IntegerField):
    """An integer as typed (full-width digits and thousands separators accepted)."""

    def __init__(self, *, label: str, required: bool = True, **kwargs: Any) -> None:
        super().__init__(
            label=label,
            required=required,
            min_value=0,
            error_messages={
                "required": f"{label}を入力してください。",
                "invalid": f"{label}は数字で入力してください。",
                "min_value": f"{label}は0以上の数です。",
            },
            widget=forms.TextInput(attrs={"inputmode": "numeric"}),
            **kwargs,
        )

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str):
            value = unicodedata.normalize("NFKC", value).replace(",", "").strip()
        return super().to_python(value)


def _fact_field(fact: Fact) -> forms.Field:
    help_text = fact.help or ("" if fact.kind != "date" else DATE_HELP)
    if fact.kind == "date":
        return DayField(label=fact.label, required=fact.required, help_text=help_text)
    if fact.kind == "int":
        label = f"{fact.label}（{fact.unit}）" if fact.unit else fact.label
        return NumberField(
            label=label, required=fact.required, initial=fact.initial, help_text=help_text
        )
    if fact.kind == "bool":
        return forms.BooleanField(
            label=fact.label, required=False, initial=fact.initial, help_text=help_text
        )
    return forms.CharField(
        label=fact.label,
        required=fact.required,
        max_length=60,
        help_text=help_text,
        error_messages={"required": f"{fact.label}を入力してください。"},
    )


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


# --- 申請の受付 ----------------------------------------------------------------------------


ACCOUNT_FIELDS = (
    "bank_code",
    "branch_code",
    "account_type",
    "account_number",
    "holder_kana",
    "yucho_symbol",
    "yucho_number",
)


class BenefitApplicationForm(forms.Form):
    """申請の受付: the subject, the applicant, the dates, the benefit's facts, the 添付書類
    and the account. Field names are those `BenefitError.field` / `AccountError.field` use,
    so a service's refusal is shown beside its field."""

    subject_atena_no = forms.CharField(
        label="対象の被保険者の宛名番号",
        max_length=15,
        error_messages={"required": "対象の被保険者の宛名番号を入力してください。"},
    )
    applicant_atena_no = forms.CharField(
        label="申請者の宛名番号",
        max_length=15,
        required=False,
        help_text="空欄のときは対象者の世帯主",
    )
    applicant_name = forms.CharField(
        label="申請者氏名（住民記録にない方）",
        max_length=60,
        required=False,
        help_text="市外に住む喪主など、宛名番号のない申請者のとき",
    )
    received_on = DayField(label="受付日")

    bank_code = forms.CharField(
        label="金融機関コード", max_length=4, required=False, help_text="4桁"
    )
    branch_code = forms.CharField(label="店舗コード", max_length=3, required=False, help_text="3桁")
    account_type = forms.TypedChoiceField(
        label="預金種目", choices=AccountKind.choices, coerce=int, initial=AccountKind.ORDINARY
    )
    account_number = forms.CharField(
        label="口座番号", max_length=7, required=False, help_text="7桁以内"
    )
    yucho_symbol = forms.CharField(
        label="ゆうちょ 記号", max_length=6, required=False, help_text="ゆうちょ銀行は記号・番号で"
    )
    yucho_number = forms.CharField(label="ゆうちょ 番号", max_length=9, required=False)
    holder_kana = forms.CharField(label="口座名義（カナ）", max_length=60, required=False)

    def __init__(self, *args: Any, benefit: Benefit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.benefit = benefit
        self.fields["event_date"] = DayField(label=EVENT_LABELS[benefit])
        for fact in FACTS[benefit]:
            self.fields[fact.name] = _fact_field(fact)
        self.fields["attachments"] = forms.MultipleChoiceField(
            label="添付書類（受領したもの）",
            required=False,
            choices=[
                (a.code, f"{a.label}{'（必須）' if a.required else ''}")
                for a in attachments_for(benefit)
            ],
            widget=forms.CheckboxSelectMultiple,
        )
        self.subject: Person | None = None
        self.applicant: Person | None = None

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        facts = [fact.name for fact in FACTS[self.benefit]]
        groups = (
            ("対象者・申請者", ["subject_atena_no", "applicant_atena_no", "applicant_name"]),
            ("支給事由", ["received_on", "event_date", *facts]),
            ("添付書類", ["attachments"]),
            ("振込先口座", list(ACCOUNT_FIELDS)),
        )
        return [(title, [self[name] for name in names]) for title, names in groups]

    def clean_subject_atena_no(self) -> str:
        atena_no = _nfkc(self.cleaned_data["subject_atena_no"])
        self.subject = (
            Person.objects.select_related("household__head").filter(atena_no=atena_no).first()
        )
        if self.subject is None:
            raise forms.ValidationError(f"宛名番号「{atena_no}」の住民が見つかりません。")
        return atena_no

    def clean_applicant_atena_no(self) -> str:
        atena_no = _nfkc(self.cleaned_data["applicant_atena_no"])
        if atena_no:
            self.applicant = Person.objects.filter(atena_no=atena_no).first()
            if self.applicant is None:
                raise forms.ValidationError(f"宛名番号「{atena_no}」の住民が見つかりません。")
        return atena_no

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.subject is None or self.errors.get("applicant_atena_no"):
            return data
        if self.applicant is None and not data.get("applicant_name", "").strip():
            self.applicant = self.subject.household.head
            if self.applicant is None:
                self.add_error(
                    "applicant_atena_no",
                    "世帯主が登録されていません。申請者の宛名番号か氏名を入力してください。",
                )
            elif self.benefit == Benefit.SOSAI and self.applicant == self.subject:
                self.add_error(
                    "applicant_atena_no",
                    "亡くなった方が世帯主です。喪主の宛名番号か氏名を入力してください。",
                )
        return data

    def applicant_label(self) -> str:
        if self.applicant is not None:
            return f"{self.applicant.name}（宛名番号 {self.applicant.atena_no}）"
        return f"{self.cleaned_data['applicant_name'].strip()}（住民記録になし）"

    def facts(self) -> dict[str, Any]:
        """The benefit's facts as the rule reads them; optional ones left empty are omitted."""
        out: dict[str, Any] = {}
        for fact in FACTS[self.benefit]:
            value = self.cleaned_data.get(fact.name)
            if fact.kind == "bool":
                out[fact.name] = bool(value)
            elif value not in (None, ""):
                out[fact.name] = value.strip() if isinstance(value, str) else value
        return out

    def account(self) -> AccountInput | None:
        """The account as typed; None when no account field was filled in."""
        data = self.cleaned_data
        typed = {name: _nfkc(str(data.get(name) or "")) for name in ACCOUNT_FIELDS}
        typed.pop("account_type")
        if not any(typed[name] for name in typed if name != "holder_kana"):
            if typed["holder_kana"]:
                self.add_error(
                    "bank_code", "金融機関コード（またはゆうちょの記号・番号）を入力してください。"
                )
            return None
        return AccountInput(
            bank_code=typed["bank_code"],
            branch_code=typed["branch_code"],
            account_type=data.get("account_type") or AccountKind.ORDINARY,
            account_number=typed["account_number"],
            holder_kana=data.get("holder_kana", ""),
            yucho_symbol=typed["yucho_symbol"],
            yucho_number=typed["yucho_number"],
        )

    def refused(self, error: BenefitError | AccountError) -> None:
        """A service's refusal, beside its field when the form has it."""
        field = error.field if error.field in self.fields else None
        self.add_error(field, str(error))


def _fact_rows(benefit: str, facts: dict[str, Any]) -> list[tuple[str, str]]:
    rows = []
    for fact in FACTS.get(benefit) or SHOWN_FACTS.get(benefit, ()):
        value = facts.get(fact.name)
        if fact.kind == "bool":
            shown = "はい" if value else "いいえ"
        elif value in (None, ""):
            shown = "—"
        elif fact.kind == "date":
            day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            shown = format_both(day)
        elif fact.kind == "int":
            shown = f"{int(value):,}{fact.unit}"
        else:
            shown = str(value)
        rows.append((fact.label, shown))
    return rows


def _new_page(
    request: HttpRequest,
    form: BenefitApplicationForm,
    *,
    preview: Any = None,
    confirm: bool = False,
) -> HttpResponse:
    context: dict[str, Any] = {
        "benefit": form.benefit,
        "form": form,
        "confirm": confirm,
        "preview": preview,
        "account_type_label": AccountKind(preview.account_type).label if preview else "",
        "purpose": Purpose.NHI_BENEFITS,
    }
    if confirm:
        data = form.cleaned_data
        subject = form.subject
        assert subject is not None
        received = {code for code in data.get("attachments", [])}
        context |= {
            "summary": [
                ("対象の被保険者", f"{subject.name}（宛名番号 {subject.atena_no}）"),
                ("申請者", form.applicant_label()),
                ("受付日", format_both(data["received_on"])),
                (EVENT_LABELS[form.benefit], format_both(data["event_date"])),
                *_fact_rows(form.benefit, form.facts()),
            ],
            "attachments": [(a, a.code in received) for a in attachments_for(form.benefit)],
        }
    return render(request, "web/lifecycle/application_new.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@requires(Perm.BENEFITS_DECIDE)
def benefit_application_new(request: HttpRequest, benefit: str) -> HttpResponse:
    """申請の受付, in two steps: 確認 shows the account as it will be kept (bank and branch
    names, the name in 全銀 characters or why it cannot be written), 登録 keeps it."""
    kind = _benefit_or_404(benefit)
    if request.method != "POST":
        today = format_wareki(timezone.localdate())
        return _new_page(
            request, BenefitApplicationForm(benefit=kind, initial={"received_on": today})
        )
    form = BenefitApplicationForm(request.POST, benefit=kind)
    action = request.POST.get("action", "confirm")
    if action == "edit" or not form.is_valid():
        return _new_page(request, form)
    account = form.account()
    preview = None
    if account is not None:
        try:
            preview = payee_account_preview(account)
        except AccountError as error:
            form.refused(error)
    if form.errors:
        return _new_page(request, form)
    if action != "register":
        assert form.subject is not None
        person_view(
            atena_no=form.subject.atena_no,
            actor=request.user,
            purpose=Purpose.NHI_BENEFITS,
            screen="benefit_application_new",
        )
        return _new_page(request, form, preview=preview, confirm=True)
    data = form.cleaned_data
    try:
        application = benefit_application_register(
            benefit=kind,
            subject=form.subject,  # type: ignore[arg-type]
            applicant=form.applicant,
            applicant_name=data.get("applicant_name", ""),
            received_on=data["received_on"],
            event_date=data["event_date"],
            facts=form.facts(),
            attachments=dict.fromkeys(data.get("attachments", []), True),
            account=account,
            actor=request.user,
        )
    except (BenefitError, AccountError) as error:
        form.refused(error)
        return _new_page(request, form)
    messages.success(request, f"{kind.label}の申請を受け付けました（申請番号 {application.pk}）。")
    return redirect("benefit_application_detail", application_id=application.pk)


# --- 申請の一覧 ----------------------------------------------------------------------------


def _recently_decided() -> list[BenefitApplication]:
    """Applications decided of those received in the last RECENT_DECIDED_DAYS, newest first."""
    since = timezone.localdate() - dt.timedelta(days=RECENT_DECIDED_DAYS)
    return list(
        BenefitApplication.objects.filter(status=ApplicationStatus.DECIDED, received_on__gte=since)
        .select_related("subject", "household")
        .order_by("-received_on", "-pk")[:RECENT_DECIDED_SHOWN]
    )


@require_safe
@requires(Perm.BENEFITS_VIEW)
def benefit_applications(request: HttpRequest) -> HttpResponse:
    """給付の申請一覧: the 審査中 ones as a work queue (担当・期限), then those decided lately;
    for 給付担当, a link per benefit to a new application."""
    # Within one 期限, the newest 受付 first (the counter's habit before the queue).
    in_review = benefit_applications_in_review().order_by("-received_on", "-pk")
    queue = queue_list(request, QUEUES[Queue.APPLICATIONS], in_review)
    page = Paginator(queue.rows, APPLICATIONS_PER_PAGE).get_page(request.GET.get("page"))
    applications = queue_page_rows(queue, list(page.object_list))
    decided = _recently_decided()
    kogaku_households_shown(
        household_nos=sorted({a.household.household_no for a in [*applications, *decided]}),
        actor=request.user,
        screen="benefit_applications",
    )
    labels = dict(Benefit.choices)

    def row(a: BenefitApplication) -> tuple[Any, ...]:
        return (a, labels[a.benefit], EVENT_LABELS[a.benefit], len(attachments_missing(a)))

    context = {
        "page": page,
        "queue": queue,
        "rows": [row(a) for a in applications],
        "decided": [row(a) for a in decided],
        "decided_days": RECENT_DECIDED_DAYS,
        "decided_shown": RECENT_DECIDED_SHOWN,
        "benefits": [(b, Benefit(b).label) for b in FACTS],
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/lifecycle/applications.html", context)


# --- 申請の審査・決定 ----------------------------------------------------------------------


class DecideForm(VersionedForm):
    decided_on = DayField(label="決定日")


class AttachmentReceiveForm(VersionedForm):
    code = forms.CharField(max_length=40)


def _parameter_value(value: Any) -> str:
    if isinstance(value, dict):
        return "、".join(f"{k}: {_parameter_value(v)}" for k, v in value.items())
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _detail_page(
    request: HttpRequest, application_id: int, *, decide_form: DecideForm | None = None
) -> HttpResponse:
    application = get_object_or_404(
        BenefitApplication.objects.select_related("subject", "household", "applicant", "account"),
        pk=application_id,
    )
    person_view(
        atena_no=application.subject.atena_no,
        actor=request.user,
        purpose=Purpose.NHI_BENEFITS,
        screen="benefit_application_detail",
    )
    missing = attachments_missing(application)
    decisions = list(application.decisions.select_related("decided_by").order_by("-pk"))
    payments = {
        p.source_id: p
        for p in Payment.objects.filter(
            source_type=PAYMENT_SOURCE, source_id__in=[d.pk for d in decisions]
        )
    }
    decision_rows = [
        {
            "decision": d,
            "payment": payments.get(d.pk),
            "parameters": [
                {
                    **p,
                    "shown": _parameter_value(p.get("value")),
                    "since_day": _iso_day(p.get("since")),
                }
                for p in d.parameters
            ],
        }
        for d in decisions
    ]
    open_ = application.status == ApplicationStatus.RECEIVED
    version = edit_initial(application, benefit_application_shown)
    context = {
        "application": application,
        "benefit_label": Benefit(application.benefit).label,
        "event_label": EVENT_LABELS[application.benefit],
        "facts": _fact_rows(application.benefit, application.facts),
        "attachments": [
            (a, bool(application.attachments.get(a.code)))
            for a in attachments_for(application.benefit)
        ],
        "missing": missing,
        "missing_labels": "、".join(a.label for a in missing),
        "decision_rows": decision_rows,
        "can_decide": open_,
        "version": version,
        "decide_form": decide_form
        or DecideForm(initial={"decided_on": timezone.localdate(), **version}),
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/lifecycle/application_detail.html", context)


def _iso_day(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


@require_safe
@requires(Perm.BENEFITS_VIEW)
def benefit_application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    """The application: facts, attachments (received / missing), decisions with their
    explanation and the parameters they rested on."""
    return _detail_page(request, application_id)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def benefit_attachment_receive(request: HttpRequest, application_id: int) -> HttpResponse:
    """「受領」 of one 添付書類."""
    application = get_object_or_404(
        BenefitApplication.objects.select_related("subject"), pk=application_id
    )
    form = AttachmentReceiveForm(request.POST)
    code = request.POST.get("code", "")
    try:
        if not form.is_valid():
            raise BenefitError(" ".join(e for errors in form.errors.values() for e in errors))
        benefit_attachments_receive(
            application=application,
            codes=[code],
            actor=request.user,
            seen=form.edit_seen(application),
        )
    except StaleEdit as conflict:  # a button only: the clerk presses it again on the page now
        messages.error(request, conflict.message)
    except BenefitError as error:
        messages.error(request, str(error))
    else:
        label = next(a.label for a in attachments_for(application.benefit) if a.code == code)
        messages.success(request, f"添付書類「{label}」を受領しました。")
    return redirect(reverse("benefit_application_detail", args=[application.pk]) + "#attachments")


def _decide_refusal(benefit: str, error: BenefitError) -> str:
    """The refusal in Japanese: a fact's internal name (`gestation_days: …`) becomes its label."""
    text = str(error)
    labels = {f.name: f.label for f in FACTS.get(benefit, ())} | {
        "event_date": EVENT_LABELS[benefit]
    }
    if error.field in labels and text.startswith(f"{error.field}: "):
        return f"{labels[error.field]}: {text[len(error.field) + 2 :]}"
    return text


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def benefit_decision_new(request: HttpRequest, application_id: int) -> HttpResponse:
    """決定 (支給 / 一部支給 / 不支給), refused while a required attachment is missing."""
    application = get_object_or_404(
        BenefitApplication.objects.select_related("subject"), pk=application_id
    )
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            decision = benefit_decide(
                application=application,
                actor=request.user,
                decided_on=form.cleaned_data["decided_on"],
                seen=form.edit_seen(application),
            )
        except StaleEdit as conflict:
            current = BenefitApplication.objects.get(pk=application.pk)
            form.rebase(current, benefit_application_shown, conflict)
        except BenefitError as error:
            form.add_error(None, _decide_refusal(application.benefit, error))
        else:
            messages.success(
                request,
                f"{decision.get_outcome_display()}を決定しました（支給額 {decision.amount:,}円）。",
            )
            return redirect("benefit_application_detail", application_id=application.pk)
    return _detail_page(request, application.pk, decide_form=form)


@require_safe
@requires(Perm.BENEFITS_VIEW)
def benefit_decision_notice(request: HttpRequest, decision_id: int) -> HttpResponse:
    """決定通知書 (PDF, shown in the browser to print and mail), built from the decision."""
    decision = get_object_or_404(
        BenefitDecision.objects.select_related(
            "application__subject", "application__applicant", "changes"
        ),
        pk=decision_id,
    )
    try:
        content = benefit_notices_pdf([decision])
    except ValueError as error:
        messages.error(request, f"通知書を作成できませんでした: {error}")
        return redirect("benefit_application_detail", application_id=decision.application_id)
    response = HttpResponse(content, content_type="application/pdf")
    file_name = f"kyufu-kettei-{decision.decided_on:%Y%m%d}-{decision.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{file_name}"'
    response["Cache-Control"] = "no-store"
    return response

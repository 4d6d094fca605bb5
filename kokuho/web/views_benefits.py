"""高額療養費 screens (給付担当; 窓口担当 reads): monthly runs, a run's paid households, one
household's result with its application and decision, decisions awaiting payment, notices,
and a household's months carried over from another city of the prefecture (高額該当の引継ぎ).

Thin: forms parse 和暦 or 西暦 dates; `benefits.kogaku` services decide and write the audit
events; every state change is a POST to its own URL that needs 給付の決定, while the pages
(GET) need 給付の閲覧 — so each URL has one permission and the role matrix stays exact.
"""

import datetime as dt
import re
import unicodedata

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.benefits.kogaku.carried import (
    kogaku_carried_month_record,
    kogaku_carried_month_withdraw,
    kogaku_carried_view,
)
from kokuho.benefits.kogaku.notice_data import (
    decision_notice_pdf,
    invitations_unprinted,
    kogaku_invitations_print,
)
from kokuho.benefits.kogaku.recompute import kogaku_recompute_months
from kokuho.benefits.kogaku.rules import MonthUnconfirmed, month_rules
from kokuho.benefits.kogaku.run import (
    kogaku_latest_confirmed_month,
    kogaku_run_submit,
    kogaku_run_summary,
)
from kokuho.benefits.kogaku.selectors import (
    kogaku_decisions_page,
    kogaku_households_shown,
    kogaku_open_run,
    kogaku_result_view,
    kogaku_run_households_page,
    kogaku_runs_page,
)
from kokuho.benefits.kogaku.workflow import (
    AccountIn,
    KogakuError,
    kogaku_application_register,
    kogaku_decide,
    kogaku_decisions_awaiting_payment,
    kogaku_paid_record,
)
from kokuho.benefits.models import (
    AccountType,
    KogakuApplication,
    KogakuCarriedMonth,
    KogakuDecision,
    KogakuResult,
    KogakuRun,
    KogakuRunStatus,
)
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import WarekiError, format_wareki, parse_date
from kokuho.people.models import Household
from kokuho.web.views_audit import DATE_HELP

MONTH_HELP = "例: R8.7 / 令和8年7月 / 2026-07"


def _day(value: str, *, required: str) -> dt.date:
    if not value.strip():
        raise forms.ValidationError(required)
    try:
        return parse_date(value)
    except WarekiError as error:
        raise forms.ValidationError(str(error)) from None


def parse_month(text: str) -> dt.date:
    """A 診療月 as typed: `R8.7`, `令和8年7月`, `2026-07`, `2026/7`, `2026年7月` (the 1st)."""
    value = unicodedata.normalize("NFKC", text).strip()
    if match := re.fullmatch(r"(.*[0-9元])\s*([-/.])\s*([0-9]{1,2})", value):
        value = f"{match[1]}{match[2]}{match[3]}{match[2]}1"
    elif value.endswith("月"):
        value += "1日"
    for candidate in (value, unicodedata.normalize("NFKC", text).strip()):
        try:
            return parse_date(candidate).replace(day=1)
        except WarekiError:
            continue
    raise forms.ValidationError(f"診療月の形式が正しくありません（{MONTH_HELP}）")


class RunForm(forms.Form):
    month = forms.CharField(label="診療月", max_length=30, help_text=MONTH_HELP)

    def clean_month(self) -> dt.date:
        month = parse_month(self.cleaned_data["month"])
        if month >= timezone.localdate().replace(day=1):
            raise forms.ValidationError("診療月は前月以前を指定してください。")
        try:
            month_rules(month)
        except MonthUnconfirmed as refused:
            raise forms.ValidationError(str(refused)) from None
        if kogaku_open_run(month=month) is not None:
            raise forms.ValidationError(f"{format_wareki(month)[:-2]}診療分は計算中です。")
        return month


class ApplicationForm(forms.Form):
    applicant = forms.TypedChoiceField(label="申請者", coerce=int)
    received_on = forms.CharField(
        label="受付日",
        max_length=30,
        help_text=DATE_HELP,
        error_messages={"required": "受付日を入力してください。"},
    )
    bank_code = forms.CharField(label="金融機関コード", max_length=4, help_text="4桁")
    branch_code = forms.CharField(label="店舗コード", max_length=3, help_text="3桁")
    account_type = forms.TypedChoiceField(label="預金種目", choices=AccountType.choices, coerce=int)
    account_number = forms.CharField(label="口座番号", max_length=7, help_text="7桁")
    holder_kana = forms.CharField(label="口座名義（カナ）", max_length=60)
    simplify = forms.BooleanField(
        label="申請簡素化を希望する（次の月からは申請なしでこの口座へ振り込む）", required=False
    )

    def __init__(self, *args: object, members: list, head_id: int | None, **kwargs: object):
        kwargs.setdefault("initial", {"applicant": head_id})
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["applicant"].choices = [
            (m.pk, f"{m.name}（{m.get_relation_display()}）") for m in members
        ]

    def clean_received_on(self) -> dt.date:
        return _day(self.cleaned_data["received_on"], required="受付日を入力してください。")

    def account(self) -> AccountIn:
        data = self.cleaned_data
        return AccountIn(
            bank_code=unicodedata.normalize("NFKC", data["bank_code"]).strip(),
            branch_code=unicodedata.normalize("NFKC", data["branch_code"]).strip(),
            account_type=data["account_type"],
            account_number=unicodedata.normalize("NFKC", data["account_number"]).strip(),
            holder_kana=data["holder_kana"],
        )


class DecideForm(forms.Form):
    decided_on = forms.CharField(
        label="決定日",
        max_length=30,
        help_text=DATE_HELP,
        error_messages={"required": "決定日を入力してください。"},
    )

    def clean_decided_on(self) -> dt.date:
        return _day(self.cleaned_data["decided_on"], required="決定日を入力してください。")


class PaidForm(forms.Form):
    paid_on = forms.CharField(
        label="支払日（振込日）",
        max_length=30,
        help_text=DATE_HELP,
        error_messages={"required": "支払日を入力してください。"},
    )
    decisions = forms.TypedMultipleChoiceField(label="支払を記録する決定", coerce=int)

    def __init__(self, *args: object, choices: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["decisions"].choices = [(pk, str(pk)) for pk in choices]
        self.fields["decisions"].error_messages["required"] = "支払った決定を選んでください。"

    def clean_paid_on(self) -> dt.date:
        return _day(self.cleaned_data["paid_on"], required="支払日を入力してください。")


class CarriedForm(forms.Form):
    month = forms.CharField(
        label="診療月（前住所地で高額療養費が支給された月）",
        max_length=30,
        help_text=MONTH_HELP,
        error_messages={"required": "診療月を入力してください。"},
    )
    former_insurer_number = forms.CharField(
        label="前住所地の保険者番号",
        max_length=8,
        help_text="6桁（県内の市町村）",
        error_messages={"required": "前住所地の保険者番号を入力してください。"},
    )
    basis = forms.CharField(
        label="根拠",
        max_length=200,
        help_text="例: 国保情報集約システム 高額該当情報 照会番号 …",
        error_messages={"required": "根拠（国保情報集約システムの照会番号等）を入力してください。"},
    )

    def clean_month(self) -> dt.date:
        return parse_month(self.cleaned_data["month"])


class CarriedWithdrawForm(forms.Form):
    reason = forms.CharField(
        label="取消の理由",
        max_length=200,
        error_messages={"required": "取消の理由を入力してください。"},
    )


# --- 月次計算 -----------------------------------------------------------------------------


def _runs(request: HttpRequest, form: RunForm) -> HttpResponse:
    runs = kogaku_runs_page(page=request.GET.get("page"))
    rows = [(run, kogaku_run_summary(run) if run.counts else "") for run in runs]
    # 再計算の対象: months with decided households something has made out of date.
    recompute = [(format_wareki(m)[:-2], m, n) for m, n in kogaku_recompute_months()]
    context = {
        "runs": runs,
        "rows": rows,
        "form": form,
        "recompute": recompute,
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/kogaku_runs.html", context)


def _default_month() -> str:
    try:
        return format_wareki(kogaku_latest_confirmed_month(before=timezone.localdate()))[:-2]
    except MonthUnconfirmed:
        return ""


@require_safe
@requires(Perm.BENEFITS_VIEW)
def kogaku_runs(request: HttpRequest) -> HttpResponse:
    """月次計算の一覧 (and, for 給付担当, the form to start one)."""
    return _runs(request, RunForm(initial={"month": _default_month()}))


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def kogaku_run_start(request: HttpRequest) -> HttpResponse:
    form = RunForm(request.POST)
    if not form.is_valid():
        return _runs(request, form)
    run = kogaku_run_submit(month=form.cleaned_data["month"], actor=request.user)
    messages.success(request, f"{format_wareki(run.month)[:-2]}診療分の月次計算を受け付けました。")
    return redirect("kogaku_run_detail", run_id=run.pk)


@require_safe
@requires(Perm.BENEFITS_VIEW)
def kogaku_run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run: progress while it is open (htmx polls the fragment; the page reloads when the
    run ends), then its summary and paid households, paginated."""
    run = get_object_or_404(KogakuRun.objects.select_related("requested_by"), pk=run_id)
    if request.htmx:
        response = render(request, "web/_kogaku_run.html", {"run": run})
        if not run.is_open:
            response["HX-Refresh"] = "true"  # show the households and the print button
        return response
    households = None
    unprinted = 0
    if run.status == KogakuRunStatus.DONE:
        households = kogaku_run_households_page(run=run, page=request.GET.get("page"))
        kogaku_households_shown(
            household_nos=[row.household_no for row in households],
            actor=request.user,
            screen="kogaku_run_detail",
        )
        unprinted = invitations_unprinted(run=run).count()
    context = {
        "run": run,
        "summary": kogaku_run_summary(run) if run.counts else "",
        "households": households,
        "unprinted": unprinted,
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/kogaku_run.html", context)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def kogaku_invitations_pdf(request: HttpRequest, run_id: int) -> HttpResponse:
    """申請のお知らせ not printed yet, as one PDF; they are marked printed."""
    run = get_object_or_404(KogakuRun, pk=run_id)
    try:
        printed = kogaku_invitations_print(run=run, actor=request.user)
    except ValueError as error:
        messages.error(request, f"通知書を作成できませんでした: {error}")
        return redirect("kogaku_run_detail", run_id=run.pk)
    if printed is None:
        messages.info(request, "印刷していない申請勧奨はありません。")
        return redirect("kogaku_run_detail", run_id=run.pk)
    response = HttpResponse(printed.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{printed.file_name}"'
    response["Cache-Control"] = "no-store"
    response["X-Kokuho-Printed"] = str(printed.count)
    response["X-Kokuho-Remaining"] = str(printed.remaining)
    return response


# --- 世帯の計算結果・申請・決定 -----------------------------------------------------------


def _result_page(
    request: HttpRequest,
    result_id: int,
    *,
    application_form: ApplicationForm | None = None,
    decide_form: DecideForm | None = None,
) -> HttpResponse:
    state = kogaku_result_view(result_id=result_id, actor=request.user, screen="kogaku_result")
    household = state.result.household
    today = format_wareki(timezone.localdate())
    context = {
        "state": state,
        "result": state.result,
        "household": household,
        "application_form": application_form
        or ApplicationForm(
            members=state.members,
            head_id=household.head_id,
            initial={"applicant": household.head_id, "received_on": today},
        ),
        "decide_form": decide_form or DecideForm(initial={"decided_on": today}),
        # A form sent back with errors stays on the page, whatever the state now is.
        "can_apply": application_form is not None
        or (
            # Any household may apply; one with nothing due is decided 不支給 with the reason.
            state.is_current and state.application is None and state.decision is None
        ),
        "can_decide": decide_form is not None
        or (state.application is not None and state.decision is None),
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/kogaku_result.html", context)


@require_safe
@requires(Perm.BENEFITS_VIEW)
def kogaku_result_detail(request: HttpRequest, result_id: int) -> HttpResponse:
    return _result_page(request, result_id)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def kogaku_application_new(request: HttpRequest, result_id: int) -> HttpResponse:
    """支給申請の受付 (with the 申請簡素化 consent when ticked)."""
    result = get_object_or_404(KogakuResult.objects.select_related("household"), pk=result_id)
    household = result.household
    members = list(household.members.filter(resident_until__isnull=True))
    form = ApplicationForm(request.POST, members=members, head_id=household.head_id)
    if form.is_valid():
        data = form.cleaned_data
        applicant = next(m for m in members if m.pk == data["applicant"])
        try:
            kogaku_application_register(
                household=household,
                month=result.month,
                applicant=applicant,
                received_on=data["received_on"],
                account=form.account(),
                simplify=data["simplify"],
                actor=request.user,
            )
        except KogakuError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "支給申請を受け付けました。")
            return redirect("kogaku_result_detail", result_id=result.pk)
    return _result_page(request, result.pk, application_form=form)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def kogaku_decision_new(request: HttpRequest, result_id: int) -> HttpResponse:
    """支給決定 of the household's application for the month."""
    result = get_object_or_404(KogakuResult, pk=result_id)
    form = DecideForm(request.POST)
    if form.is_valid():
        application = KogakuApplication.objects.filter(
            household_id=result.household_id, month=result.month
        ).first()
        try:
            if application is None:
                raise KogakuError("この世帯・診療月の支給申請が受け付けられていません")
            decision = kogaku_decide(
                application=application,
                actor=request.user,
                decided_on=form.cleaned_data["decided_on"],
            )
        except KogakuError as error:
            form.add_error(None, str(error))
        else:
            if decision.amount:
                messages.success(request, f"支給額 {decision.amount:,}円で支給を決定しました。")
            else:
                messages.success(request, f"不支給と決定しました（{decision.reason}）。")
            return redirect("kogaku_result_detail", result_id=result.pk)
    return _result_page(request, result.pk, decide_form=form)


# --- 支払待ち・通知書 ---------------------------------------------------------------------


def _decisions(request: HttpRequest, form: PaidForm) -> HttpResponse:
    decisions = kogaku_decisions_page(
        decisions=kogaku_decisions_awaiting_payment(), page=request.GET.get("page")
    )
    kogaku_households_shown(
        household_nos=[d.household.household_no for d in decisions],
        actor=request.user,
        screen="kogaku_decisions",
    )
    context = {"decisions": decisions, "form": form, "purpose": Purpose.NHI_BENEFITS}
    return render(request, "web/kogaku_decisions.html", context)


@require_safe
@requires(Perm.BENEFITS_VIEW)
def kogaku_decisions(request: HttpRequest) -> HttpResponse:
    """支払待ちの支給決定 (and, for 給付担当, recording the transfer)."""
    form = PaidForm(initial={"paid_on": format_wareki(timezone.localdate())}, choices=[])
    return _decisions(request, form)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def kogaku_paid_new(request: HttpRequest) -> HttpResponse:
    awaiting = kogaku_decisions_awaiting_payment()
    chosen = [int(v) for v in request.POST.getlist("decisions") if v.isdigit()]
    open_ids = list(awaiting.filter(pk__in=chosen).values_list("pk", flat=True))
    form = PaidForm(request.POST, choices=open_ids)
    if not form.is_valid():
        return _decisions(request, form)
    done = kogaku_paid_record(
        decisions=awaiting.filter(pk__in=form.cleaned_data["decisions"]),
        paid_on=form.cleaned_data["paid_on"],
        actor=request.user,
    )
    messages.success(
        request, f"{done} 件の支払（{format_wareki(form.cleaned_data['paid_on'])}）を記録しました。"
    )
    return redirect("kogaku_decisions")


@require_safe
@requires(Perm.BENEFITS_VIEW)
def kogaku_decision_notice(request: HttpRequest, decision_id: int) -> HttpResponse:
    """支給決定通知書 (PDF, shown in the browser to print and mail)."""
    decision = get_object_or_404(KogakuDecision.objects.select_related("household"), pk=decision_id)
    try:
        content = decision_notice_pdf(decision=decision, actor=request.user)
    except ValueError as error:
        messages.error(request, f"通知書を作成できませんでした: {error}")
        if decision.result_id is None:
            return redirect("kogaku_decisions")
        return redirect("kogaku_result_detail", result_id=decision.result_id)
    response = HttpResponse(content, content_type="application/pdf")
    file_name = f"kogaku-kettei-{decision.month:%Y%m}-{decision.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{file_name}"'
    response["Cache-Control"] = "no-store"
    return response


# --- 高額該当の引継ぎ（県内の転居） ---------------------------------------------------------


def _carried_page(
    request: HttpRequest,
    household_no: str,
    *,
    form: CarriedForm | None = None,
    withdrawing: tuple[int, CarriedWithdrawForm] | None = None,
) -> HttpResponse:
    state = kogaku_carried_view(
        household_no=household_no, actor=request.user, screen="kogaku_carried"
    )
    failed_id, failed_form = withdrawing or (None, None)
    rows = [
        (
            entry,
            failed_form
            if entry.pk == failed_id
            else (CarriedWithdrawForm() if entry.withdrawn_at is None else None),
        )
        for entry in state.entries
    ]
    context = {
        "household": state.household,
        "rows": rows,
        "form": form or CarriedForm(),
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/kogaku_carried.html", context)


@require_safe
@requires(Perm.BENEFITS_VIEW)
def kogaku_carried_open(request: HttpRequest) -> HttpResponse:
    """世帯番号 typed on the runs page → that household's carried months."""
    household_no = unicodedata.normalize("NFKC", request.GET.get("household_no", "")).strip()
    if not Household.objects.filter(household_no=household_no).exists():
        messages.error(request, f"世帯番号「{household_no}」の世帯が見つかりません。")
        return redirect("kogaku_runs")
    return redirect("kogaku_carried", household_no=household_no)


@require_safe
@requires(Perm.BENEFITS_VIEW)
def kogaku_carried(request: HttpRequest, household_no: str) -> HttpResponse:
    """The household's months carried over from another city of the prefecture (and, for
    給付担当, recording and withdrawing them)."""
    return _carried_page(request, household_no)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def kogaku_carried_new(request: HttpRequest, household_no: str) -> HttpResponse:
    household = get_object_or_404(Household, household_no=household_no)
    form = CarriedForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            carried = kogaku_carried_month_record(
                household=household,
                month=data["month"],
                former_insurer_number=data["former_insurer_number"],
                basis=data["basis"],
                actor=request.user,
            )
        except KogakuError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"{format_wareki(carried.month)[:-2]}診療分を引継ぎとして記録しました"
                "（計算済みの月への反映は、その月の月次計算をやり直してください）。",
            )
            return redirect("kogaku_carried", household_no=household.household_no)
    return _carried_page(request, household.household_no, form=form)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def kogaku_carried_withdraw(
    request: HttpRequest, household_no: str, carried_id: int
) -> HttpResponse:
    carried = get_object_or_404(
        KogakuCarriedMonth.objects.select_related("household"),
        pk=carried_id,
        household__household_no=household_no,
    )
    form = CarriedWithdrawForm(request.POST)
    if form.is_valid():
        try:
            kogaku_carried_month_withdraw(
                carried=carried, reason=form.cleaned_data["reason"], actor=request.user
            )
        except KogakuError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, f"{format_wareki(carried.month)[:-2]}診療分の引継ぎを取り消しました。"
            )
            return redirect("kogaku_carried", household_no=household_no)
    return _carried_page(request, household_no, withdrawing=(carried.pk, form))

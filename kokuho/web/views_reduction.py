"""一部負担金の減額・免除・徴収猶予 screens (法44条; 給付担当 decides, 窓口担当 reads).

Thin, as the 給付の申請 screens: the form parses 和暦 or 西暦 dates and amounts;
`benefits.reduction.services` registers, decides and extends (and writes the audit events);
the PDFs are the services' data through `reduction/pdf.py`. Before a decision is kept the
page shows what it would be — the same facts and the same rule the service uses, nothing
kept — so the clerk sees the household's income and savings against the 生活保護 standard,
which criterion is met and the proposed kind and period. Pages (GET) need 給付の閲覧; every
change is a POST needing 給付の決定; the entry form is one URL needing 給付の決定.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.benefits.kogaku.selectors import kogaku_households_shown
from kokuho.benefits.lifecycle.services import BenefitError
from kokuho.benefits.reduction.models import (
    APPROVED,
    CopayReductionApplication,
    CopayReductionDecision,
)
from kokuho.benefits.reduction.pdf import reduction_certificates_pdf, reduction_notices_pdf
from kokuho.benefits.reduction.rules import ReductionFacts, ReductionOutcome
from kokuho.benefits.reduction.rules import welfare_standard as standard_of
from kokuho.benefits.reduction.selectors import (
    copay_reduction_application_shown,
    reduction_period,
    reduction_result_label,
    reduction_status,
)
from kokuho.benefits.reduction.services import (
    copay_reduction_decide,
    copay_reduction_extend,
    copay_reduction_preview,
    copay_reduction_register,
    reduction_certificate_data,
    reduction_notice_data,
)
from kokuho.core.concurrency import StaleEdit
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import format_both, format_wareki
from kokuho.people.services import person_view
from kokuho.web.forms_concurrency import edit_initial
from kokuho.web.forms_reduction import (
    ReductionApplicationForm,
    ReductionDecideForm,
    ReductionExtendForm,
)

APPLICATIONS_PER_PAGE = 50


# --- 申請の一覧・受付 -------------------------------------------------------------------------


@require_safe
@requires(Perm.BENEFITS_VIEW)
def reduction_applications(request: HttpRequest) -> HttpResponse:
    """一部負担金減免の申請一覧, newest 受付 first, with each one's state."""
    page = Paginator(
        CopayReductionApplication.objects.select_related("subject", "household")
        .prefetch_related(
            Prefetch("decisions", queryset=CopayReductionDecision.objects.order_by("pk"))
        )
        .order_by("-received_on", "-pk"),
        APPLICATIONS_PER_PAGE,
    ).get_page(request.GET.get("page"))
    kogaku_households_shown(
        household_nos=sorted({a.household.household_no for a in page}),
        actor=request.user,
        screen="reduction_applications",
    )
    rows = [(a, reduction_status(list(a.decisions.all()))) for a in page]
    context = {"applications": page, "rows": rows, "purpose": Purpose.NHI_BENEFITS}
    return render(request, "web/reduction/applications.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@requires(Perm.BENEFITS_DECIDE)
def reduction_application_new(request: HttpRequest) -> HttpResponse:
    """申請の受付; the page that follows shows the computation before anything is decided."""
    if request.method != "POST":
        initial = {"received_on": format_wareki(timezone.localdate())}
        form = ReductionApplicationForm(initial=initial)
    else:
        form = ReductionApplicationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                application = copay_reduction_register(
                    subject=form.subject,  # type: ignore[arg-type]
                    applicant=form.applicant,  # type: ignore[arg-type]
                    received_on=data["received_on"],
                    reason=data["reason"],
                    reason_detail=data["reason_detail"],
                    monthly_income=data["monthly_income"],
                    savings=data["savings"],
                    members=data["members"],
                    requested_kind=data["requested_kind"],
                    period_start=data["period_start"],
                    months=data["months"],
                    actor=request.user,
                )
            except BenefitError as error:
                form.refused(error)
            else:
                messages.success(
                    request, f"一部負担金減免の申請を受け付けました（申請番号 {application.pk}）。"
                )
                return redirect("reduction_application_detail", application_id=application.pk)
    context = {"form": form, "purpose": Purpose.NHI_BENEFITS}
    return render(request, "web/reduction/application_new.html", context)


# --- 判定の内容（決定の前に） ---------------------------------------------------------------


def _computation(facts: ReductionFacts, outcome: ReductionOutcome) -> dict[str, Any]:
    """The figures of the proposal as the page lists them (the rule's steps say the rest)."""
    used = {p["name"]: p for p in outcome.parameters}
    table = used.get("reduction.welfare_standard")
    standard = standard_of(table["value"], facts.members) if table else None
    criteria = used.get("reduction.criteria", {}).get("value") or {}
    rows: list[tuple[str, str]] = [
        ("世帯の人数", f"{facts.members}人"),
        ("世帯の実収月額", f"{facts.monthly_income:,}円"),
        ("世帯の預貯金", f"{facts.savings:,}円"),
    ]
    if standard:
        ratio = Decimal(facts.monthly_income) / Decimal(standard) * 100
        provisional = "（市の簡易表・暫定値）" if table.get("status") == "provisional" else ""
        rows.append(("生活保護基準額（月額）", f"{standard:,}円{provisional}"))
        rows.append(("実収月額の基準額に対する割合", f"{ratio:.2f}%"))
        if "savings_months" in criteria:
            cap = int(criteria["savings_months"]) * standard
            rows.append(("預貯金の上限（基準額の月数分）", f"{cap:,}円"))
    result = reduction_result_label(outcome.result, outcome.rate_percent)
    rows.append(("判定", "承認（" + result + "）" if outcome.result in APPROVED else "不承認"))
    if outcome.period_start and outcome.period_end:
        period = f"{format_both(outcome.period_start)} 〜 {format_both(outcome.period_end)}"
        rows.append(("期間", f"{period}（{outcome.months}か月）"))
    if outcome.reason:
        rows.append(("不承認の理由", outcome.reason))
    return {"rows": rows, "steps": outcome.steps, "approved": outcome.result in APPROVED}


def _proposal_shown(
    application: CopayReductionApplication, **kwargs: Any
) -> tuple[dict[str, Any] | None, str]:
    try:
        facts, outcome = copay_reduction_preview(application=application, **kwargs)
    except BenefitError as error:
        return None, str(error)
    return _computation(facts, outcome), ""


# --- 申請の詳細・決定・延長 -----------------------------------------------------------------


def _decision_rows(decisions: list[CopayReductionDecision]) -> list[dict[str, Any]]:
    extended = {d.extends_id for d in decisions if d.extends_id}
    return [
        {
            "decision": d,
            "label": reduction_result_label(d.result, d.rate_percent),
            "period": reduction_period(d),
            "approved": d.result in APPROVED,
            "extendable": d.result in APPROVED and d.pk not in extended,
            "parameters": d.parameters,
        }
        for d in decisions
    ]


def _detail_page(
    request: HttpRequest,
    application_id: int,
    *,
    decide_form: ReductionDecideForm | None = None,
    extend_form: ReductionExtendForm | None = None,
    extend_of: CopayReductionDecision | None = None,
    extension: dict[str, Any] | None = None,
    extension_error: str = "",
) -> HttpResponse:
    application = get_object_or_404(
        CopayReductionApplication.objects.select_related("subject", "applicant", "household"),
        pk=application_id,
    )
    person_view(
        atena_no=application.subject.atena_no,
        actor=request.user,
        purpose=Purpose.NHI_BENEFITS,
        screen="reduction_application_detail",
    )
    decisions = list(application.decisions.select_related("decided_by").order_by("pk"))
    proposal, proposal_error = (None, "")
    if not decisions:
        proposal, proposal_error = _proposal_shown(application)
    rows = _decision_rows(decisions)
    latest = next((r["decision"] for r in reversed(rows) if r["extendable"]), None)
    today = timezone.localdate()
    version = edit_initial(application, copay_reduction_application_shown)
    context = {
        "application": application,
        "proposal": proposal,
        "proposal_error": proposal_error,
        "decision_rows": rows,
        "can_decide": not decisions,
        "decide_form": decide_form or ReductionDecideForm(initial={"decided_on": today, **version}),
        "extend_of": extend_of or latest,
        "extend_form": extend_form or ReductionExtendForm(initial={"decided_on": today, **version}),
        "extension": extension,
        "extension_error": extension_error,
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/reduction/application_detail.html", context)


@require_safe
@requires(Perm.BENEFITS_VIEW)
def reduction_application_detail(request: HttpRequest, application_id: int) -> HttpResponse:
    """The application, the computation before the decision, the decisions and their PDFs."""
    return _detail_page(request, application_id)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def reduction_decision_new(request: HttpRequest, application_id: int) -> HttpResponse:
    """決定 as the computation shown: 承認 (免除・減額・徴収猶予 with the period) or 不承認
    with the reason."""
    application = get_object_or_404(
        CopayReductionApplication.objects.select_related("subject"), pk=application_id
    )
    form = ReductionDecideForm(request.POST)
    if form.is_valid():
        try:
            decision = copay_reduction_decide(
                application=application,
                actor=request.user,
                decided_on=form.cleaned_data["decided_on"],
                seen=form.edit_seen(application),
            )
        except StaleEdit as conflict:
            form.rebase(_current(application.pk), copay_reduction_application_shown, conflict)
        except BenefitError as error:
            form.add_error(None, str(error))
        else:
            label = reduction_result_label(decision.result, decision.rate_percent)
            messages.success(request, f"{label}を決定しました。")
            return redirect("reduction_application_detail", application_id=application.pk)
    return _detail_page(request, application.pk, decide_form=form)


@require_POST
@requires(Perm.BENEFITS_DECIDE)
def reduction_decision_extend(request: HttpRequest, decision_id: int) -> HttpResponse:
    """延長 in two steps: 「確認」 shows the extension's computation, 「延長を決定」 keeps it."""
    decision = get_object_or_404(
        CopayReductionDecision.objects.select_related("application__subject"), pk=decision_id
    )
    application = decision.application
    form = ReductionExtendForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, application.pk, extend_form=form, extend_of=decision)
    if request.POST.get("action") != "extend":
        try:
            facts, outcome = copay_reduction_preview(
                application=application, extends=decision, overrides=form.overrides()
            )
        except BenefitError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
            return _detail_page(request, application.pk, extend_form=form, extend_of=decision)
        return _detail_page(
            request,
            application.pk,
            extend_form=form,
            extend_of=decision,
            extension=_computation(facts, outcome),
        )
    data = form.cleaned_data
    try:
        extended = copay_reduction_extend(
            decision=decision,
            actor=request.user,
            monthly_income=data["monthly_income"],
            savings=data["savings"],
            members=data["members"],
            months=data["months"],
            decided_on=data["decided_on"],
            seen=form.edit_seen(application),
        )
    except StaleEdit as conflict:
        # The page as it is now: the decision to extend is the newest one (the other clerk
        # may have extended this one); the clerk's figures stay in the form.
        form.rebase(_current(application.pk), copay_reduction_application_shown, conflict)
        return _detail_page(request, application.pk, extend_form=form)
    except BenefitError as error:
        form.add_error(error.field if error.field in form.fields else None, str(error))
        return _detail_page(request, application.pk, extend_form=form, extend_of=decision)
    label = reduction_result_label(extended.result, extended.rate_percent)
    messages.success(request, f"期間の延長を決定しました（{label}）。")
    return redirect("reduction_application_detail", application_id=application.pk)


def _current(application_id: int) -> CopayReductionApplication:
    return CopayReductionApplication.objects.get(pk=application_id)


# --- 証明書・決定通知書 ---------------------------------------------------------------------


def _pdf(content: bytes, file_name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{file_name}"'
    response["Cache-Control"] = "no-store"
    return response


def _decision_or_404(decision_id: int) -> CopayReductionDecision:
    return get_object_or_404(
        CopayReductionDecision.objects.select_related(
            "application__subject", "application__applicant"
        ),
        pk=decision_id,
    )


@require_safe
@requires(Perm.BENEFITS_VIEW)
def reduction_certificate_pdf(request: HttpRequest, decision_id: int) -> HttpResponse:
    """一部負担金減額・免除・徴収猶予証明書 (PDF) of an approval."""
    decision = _decision_or_404(decision_id)
    try:
        content = reduction_certificates_pdf([reduction_certificate_data(decision)])
    except (BenefitError, ValueError) as error:
        messages.error(request, f"証明書を作成できませんでした: {error}")
        return redirect("reduction_application_detail", application_id=decision.application_id)
    return _pdf(content, f"gemmen-shomei-{decision.certificate_no}.pdf")


@require_safe
@requires(Perm.BENEFITS_VIEW)
def reduction_notice_pdf(request: HttpRequest, decision_id: int) -> HttpResponse:
    """決定通知書 (PDF; 不承認 too), with the 教示."""
    decision = _decision_or_404(decision_id)
    try:
        content = reduction_notices_pdf([reduction_notice_data(decision)])
    except ValueError as error:
        messages.error(request, f"決定通知書を作成できませんでした: {error}")
        return redirect("reduction_application_detail", application_id=decision.application_id)
    day: dt.date = decision.decided_on
    return _pdf(content, f"gemmen-kettei-{day:%Y%m%d}-{decision.pk}.pdf")

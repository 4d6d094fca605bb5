"""高額介護合算療養費 screens: the yearly run's households and the application of one.

Thin: `gassan_year_run` (`kokuho gassan run`) computes the year; these pages read its
newest run per 計算期間 (`GassanRun`, `GassanResult`). An application is registered through
`gassan_application_register`, which keeps a `BenefitApplication` of the life cycle, so
it is then reviewed and decided on the 給付の申請 screens (`benefit_application_detail`).
The account is entered and shown exactly as on the 給付の申請 form: 「確認」 shows it as it
will be kept (bank and branch names, the name in 全銀 characters or why it cannot be
written), 「登録」 keeps it. Pages need 給付の閲覧; the entry form needs 給付の決定.
"""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.benefits.gassan.engine import period_of
from kokuho.benefits.gassan.models import GassanResult, GassanRun
from kokuho.benefits.gassan.yearly import gassan_application_register
from kokuho.benefits.kogaku.selectors import kogaku_households_shown
from kokuho.benefits.lifecycle.models import ApplicationStatus, BenefitApplication
from kokuho.benefits.lifecycle.services import BenefitError, attachments_for
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import format_both, format_wareki
from kokuho.payments.models import AccountKind, Benefit
from kokuho.payments.services import AccountError, payee_account_preview
from kokuho.people.models import Person
from kokuho.web.forms_reduction import GassanApplicationForm

RESULTS_PER_PAGE = 100


def _applications_of(*, year: int, household_ids: list[int]) -> dict[int, BenefitApplication]:
    """The households' 高額介護合算 applications of the year (by its 基準日), newest each;
    withdrawn ones do not count."""
    _, reference_day = period_of(year)
    found: dict[int, BenefitApplication] = {}
    for application in (
        BenefitApplication.objects.filter(
            benefit=Benefit.GASSAN, household_id__in=household_ids, event_date=reference_day
        )
        .exclude(status=ApplicationStatus.WITHDRAWN)
        .order_by("pk")
    ):
        found[application.household_id] = application
    return found


def _current_run(year: int) -> GassanRun:
    run = GassanRun.objects.filter(year=year).order_by("-pk").first()
    if run is None:
        raise Http404(f"{year}年度の高額介護合算の年次計算はありません")
    return run


@require_safe
@requires(Perm.BENEFITS_VIEW)
def gassan_years(request: HttpRequest) -> HttpResponse:
    """高額介護合算 年次計算: each 計算期間's newest run with its counts."""
    newest: dict[int, GassanRun] = {}
    for run in GassanRun.objects.order_by("-year", "-pk"):
        newest.setdefault(run.year, run)
    rows = []
    for year, run in newest.items():
        start, reference_day = period_of(year)
        rows.append({"year": year, "run": run, "start": start, "end": reference_day})
    context = {"rows": rows, "purpose": Purpose.NHI_BENEFITS}
    return render(request, "web/gassan/years.html", context)


@require_safe
@requires(Perm.BENEFITS_VIEW)
def gassan_year(request: HttpRequest, year: int) -> HttpResponse:
    """The year's households the run found paid (all computed with `?show=all`): excess,
    the medical and care shares, and whether each has applied or been decided."""
    run = _current_run(year)
    show_all = request.GET.get("show") == "all"
    results = GassanResult.objects.filter(run=run).select_related("household__head")
    if not show_all:
        results = results.filter(paid=True)
    page = Paginator(results.order_by("-excess", "pk"), RESULTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    kogaku_households_shown(
        household_nos=sorted({r.household.household_no for r in page}),
        actor=request.user,
        screen="gassan_year",
    )
    applications = _applications_of(year=year, household_ids=[r.household_id for r in page])
    rows = [(r, applications.get(r.household_id)) for r in page]
    start, reference_day = period_of(year)
    context = {
        "year": year,
        "run": run,
        "start": start,
        "end": reference_day,
        "results": page,
        "rows": rows,
        "show_all": show_all,
        "purpose": Purpose.NHI_BENEFITS,
    }
    return render(request, "web/gassan/year.html", context)


def _members(result: GassanResult) -> list[dict[str, Any]]:
    names = dict(
        Person.objects.filter(atena_no__in=[m["atena_no"] for m in result.members]).values_list(
            "atena_no", "name"
        )
    )
    return [m | {"name": names.get(m["atena_no"], "")} for m in result.members]


def _application_page(
    request: HttpRequest,
    result: GassanResult,
    form: GassanApplicationForm,
    *,
    existing: BenefitApplication | None,
    preview: Any = None,
    confirm: bool = False,
) -> HttpResponse:
    start, reference_day = period_of(result.run.year)
    head = result.household.head
    context: dict[str, Any] = {
        "result": result,
        "year": result.run.year,
        "start": start,
        "end": reference_day,
        "head": head,
        "members": _members(result),
        "steps": [step.get("text", "") for step in result.explanation],
        "form": form,
        "existing": existing,
        "confirm": confirm,
        "preview": preview,
        "account_type_label": AccountKind(preview.account_type).label if preview else "",
        "purpose": Purpose.NHI_BENEFITS,
    }
    if confirm:
        received = set(form.cleaned_data.get("attachments", []))
        context["summary"] = [
            ("申請者（世帯主）", f"{head.name}（宛名番号 {head.atena_no}）" if head else "—"),
            ("受付日", format_both(form.cleaned_data["received_on"])),
            ("基準日", format_both(reference_day)),
        ]
        context["attachments"] = [(a, a.code in received) for a in attachments_for(Benefit.GASSAN)]
    return render(request, "web/gassan/application_new.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@requires(Perm.BENEFITS_DECIDE)
def gassan_application_new(request: HttpRequest, result_id: int) -> HttpResponse:
    """The head's application for a computed household-year, in two steps as the 給付の申請
    form; once registered it is decided on the application's own page."""
    result = get_object_or_404(
        GassanResult.objects.select_related("run", "household__head"), pk=result_id
    )
    existing = _applications_of(year=result.run.year, household_ids=[result.household_id]).get(
        result.household_id
    )
    if request.method != "POST":
        kogaku_households_shown(
            household_nos=[result.household.household_no],
            actor=request.user,
            screen="gassan_application_new",
        )
        initial = {"received_on": format_wareki(timezone.localdate())}
        form = GassanApplicationForm(initial=initial)
        return _application_page(request, result, form, existing=existing)
    form = GassanApplicationForm(request.POST)
    action = request.POST.get("action", "confirm")
    if action == "edit" or not form.is_valid():
        return _application_page(request, result, form, existing=existing)
    if existing is not None:  # the page names the application already received
        return _application_page(request, result, form, existing=existing)
    account = form.account()
    preview = None
    if account is not None:
        try:
            preview = payee_account_preview(account)
        except AccountError as error:
            form.refused(error)
    if form.errors:
        return _application_page(request, result, form, existing=existing)
    if action != "register":
        return _application_page(
            request, result, form, existing=existing, preview=preview, confirm=True
        )
    data = form.cleaned_data
    try:
        application = gassan_application_register(
            result=result,
            received_on=data["received_on"],
            account=account,
            attachments=dict.fromkeys(data.get("attachments", []), True),
            actor=request.user,
        )
    except (BenefitError, AccountError) as error:
        form.refused(error)
        return _application_page(request, result, form, existing=existing)
    messages.success(
        request,
        f"高額介護合算療養費の申請を受け付けました（申請番号 {application.pk}、"
        f"基準日 {format_wareki(application.event_date)}）。",
    )
    return redirect("benefit_application_detail", application_id=application.pk)

"""Counter screens (窓口画面). Thin: parse input, call one service, render."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kokuho.accounts.decorators import public, requires
from kokuho.accounts.permissions import Perm
from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.purposes import Purpose, PurposeError, parse_purpose
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply, event_preview
from kokuho.eligibility.selectors import eligibility_summary, household_eligibility
from kokuho.eligibility.services import EligibilityError
from kokuho.interfaces.interruptions import import_files_interrupted_mark
from kokuho.interfaces.jobs import (
    ImportJobError,
    import_job_get,
    import_job_resume,
    import_job_submit,
    import_jobs_recent,
)
from kokuho.interfaces.models import ImportKind, QuarantinedRow
from kokuho.interfaces.selectors import import_files_recent
from kokuho.interfaces.services import (
    QuarantineError,
    ResubmitStatus,
    quarantine_discard,
    quarantine_resubmit,
)
from kokuho.people.services import household_view, person_search_audited, person_view
from kokuho.web.forms import ImportUploadForm, NotificationForm, PersonSearchForm
from kokuho.web.queue import queue_list, queue_page_rows
from kokuho.web.selectors_hub import PersonBenefits, household_benefits, person_benefits
from kokuho.web.selectors_hub_sections import (
    person_access,
    person_accounts,
    person_documents,
    person_national,
)
from kokuho.workqueue.models import Queue
from kokuho.workqueue.queues import QUEUES

DEFAULT_PURPOSE = Purpose.NHI_ELIGIBILITY
QUARANTINE_PAGE = 200


def _purpose(request: HttpRequest) -> Purpose | HttpResponse:
    """The 事務 a screen is used for; anything not on the allowed list is refused and logged."""
    try:
        return parse_purpose(request.GET.get("purpose"), default=DEFAULT_PURPOSE)
    except PurposeError as error:
        audit_event_record(
            event_type=EventType.PURPOSE_REFUSED,
            actor=request.user,
            subject_type=SubjectType.SYSTEM,
            extra={"requested": str(request.GET.get("purpose"))[:40], "path": request.path},
        )
        return render(request, "web/forbidden.html", {"message": str(error)}, status=400)


@requires(Perm.PEOPLE_SEARCH)
def search(request: HttpRequest) -> HttpResponse:
    purpose = _purpose(request)
    if isinstance(purpose, HttpResponse):
        return purpose
    form = PersonSearchForm.from_query(request.GET)
    results = None
    if form.is_bound and form.is_valid():
        criteria = form.criteria()
        if criteria.is_empty:
            form.add_error(
                None, "氏名カナ・生年月日・宛名番号・記号・番号のいずれかを入力してください。"
            )
        else:
            results = person_search_audited(
                criteria=criteria, actor=request.user, purpose=purpose, screen="search"
            )
    context = {"form": form, "results": results, "purpose": purpose, "purposes": Purpose}
    template = "web/_search_results.html" if request.htmx else "web/search.html"
    return render(request, template, context)


def _benefits_section(
    request: HttpRequest, purpose: Purpose, load: Callable[[], PersonBenefits]
) -> dict[str, Any]:
    """The 給付 section of a hub page. It is shown for the purpose it serves: opened for
    資格, the page offers the switch (a new, audited view) instead of showing benefits under
    the wrong purpose."""
    can_see = request.user.has_perm(Perm.BENEFITS_VIEW)
    return {
        "benefits": load() if can_see and purpose == Purpose.NHI_BENEFITS else None,
        "can_see_benefits": can_see,
        "can_see_payments": request.user.has_perm(Perm.PAYMENTS_VIEW),
    }


@requires(Perm.PEOPLE_VIEW)
def person_detail(request: HttpRequest, atena_no: str) -> HttpResponse:
    purpose = _purpose(request)
    if isinstance(purpose, HttpResponse):
        return purpose
    record = person_view(
        atena_no=atena_no, actor=request.user, purpose=purpose, screen="person_detail"
    )
    eligibility = None
    if request.user.has_perm(Perm.ELIGIBILITY_VIEW):
        eligibility = eligibility_summary(person=record.person, today=timezone.localdate())
    context = {
        "record": record,
        "purpose": purpose,
        "eligibility": eligibility,
        "can_notify": request.user.has_perm(Perm.ELIGIBILITY_CHANGE),
        **_benefits_section(request, purpose, lambda: person_benefits(person=record.person)),
        **_hub_sections(request, purpose, record.person),
    }
    return render(request, "web/person.html", context)


def _hub_sections(request: HttpRequest, purpose: Purpose, person: Any) -> dict[str, Any]:
    """The hub's sections beside 資格 and 給付, each for the 事務 and right it serves:
    証・通知 and 連携 are 資格's (資格の閲覧, opened for 資格), 振込先口座 is 給付's (給付の閲覧,
    opened for 保険給付), and the アクセス記録 — who looked at the resident, itself telling —
    goes to those who answer for it (開示等請求の処理), under either 事務."""
    user = request.user
    eligibility = purpose == Purpose.NHI_ELIGIBILITY and user.has_perm(Perm.ELIGIBILITY_VIEW)
    benefits = purpose == Purpose.NHI_BENEFITS and user.has_perm(Perm.BENEFITS_VIEW)
    return {
        "documents": person_documents(person=person) if eligibility else None,
        "national": person_national(person=person) if eligibility else None,
        "accounts": person_accounts(person=person) if benefits else None,
        "access": (
            person_access(person=person) if user.has_perm(Perm.SUBJECT_REQUEST_MANAGE) else None
        ),
    }


@requires(Perm.PEOPLE_VIEW)
def household_detail(request: HttpRequest, household_no: str) -> HttpResponse:
    purpose = _purpose(request)
    if isinstance(purpose, HttpResponse):
        return purpose
    record = household_view(
        household_no=household_no, actor=request.user, purpose=purpose, screen="household_detail"
    )
    nhi = None
    if request.user.has_perm(Perm.ELIGIBILITY_VIEW):
        nhi = household_eligibility(household=record.household, today=timezone.localdate())
    context = {
        "record": record,
        "purpose": purpose,
        "nhi": nhi,
        "benefits_of_household": True,  # the partial words itself for a household
        **_benefits_section(
            request, purpose, lambda: household_benefits(household=record.household)
        ),
    }
    return render(request, "web/household.html", context)


@public
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for a load balancer: says nothing about data."""
    return HttpResponse("ok", content_type="text/plain")


@requires(Perm.ELIGIBILITY_CHANGE)
def notification_new(request: HttpRequest, atena_no: str) -> HttpResponse:
    """届出入力: preview the consequences with the real engine, then save."""
    record = person_view(
        atena_no=atena_no,
        actor=request.user,
        purpose=Purpose.NHI_ELIGIBILITY,
        screen="notification",
    )
    form = NotificationForm(request.POST or None, initial={"reported_on": timezone.localdate()})
    preview = None
    if request.method == "POST" and form.is_valid():
        event = ChangeEvent(
            type=ChangeType(form.cleaned_data["type"]),
            date=form.cleaned_data["date"],
            reported_on=form.cleaned_data["reported_on"] or timezone.localdate(),
            atena_no=atena_no,
            source="窓口届出",
        )
        try:
            if request.POST.get("action") == "save":
                event_apply(event, recorded_at=timezone.now(), actor=request.user)
                messages.success(request, f"{record.person.name} の届出を登録しました。")
                return redirect("person_detail", atena_no=atena_no)
            consequences, late = event_preview(
                event, recorded_at=timezone.now(), actor=request.user
            )
            preview = {"consequences": consequences, "late": late, "event": event}
        except EligibilityError as error:
            form.add_error(None, str(error))
    context = {
        "record": record,
        "form": form,
        "preview": preview,
        "purpose": Purpose.NHI_ELIGIBILITY,
    }
    template = "web/_notification_preview.html" if request.htmx else "web/notification.html"
    return render(request, template, context)


def _quarantine_viewed(request: HttpRequest, rows: list[QuarantinedRow], screen: str) -> None:
    """Held rows carry names and birth dates: showing them is an access like any other."""
    audit_event_record(
        event_type=EventType.QUARANTINE_VIEWED,
        actor=request.user,
        subject_type=SubjectType.SYSTEM,
        purpose=Purpose.NHI_ELIGIBILITY,
        extra={"screen": screen, "rows": [r.pk for r in rows]},
    )


@requires(Perm.ELIGIBILITY_CHANGE)
def quarantine_list(request: HttpRequest) -> HttpResponse:
    """保留行の一覧: rows of imported files that were not applied, with the reason."""
    queue = queue_list(request, QUEUES[Queue.QUARANTINE])
    page = Paginator(queue.rows, QUARANTINE_PAGE).get_page(request.GET.get("page"))
    rows = queue_page_rows(queue, list(page.object_list))
    _quarantine_viewed(request, rows, "quarantine_list")
    import_files_interrupted_mark()
    context = {
        "rows": rows,
        "page": page,
        "queue": queue,
        "files": import_files_recent(limit=20),
        "purpose": Purpose.NHI_ELIGIBILITY,
    }
    return render(request, "web/quarantine_list.html", context)


@requires(Perm.ELIGIBILITY_CHANGE)
def quarantine_detail(request: HttpRequest, row_id: int) -> HttpResponse:
    """保留行の修正: correct the fields and re-submit through the same import path, or discard."""
    row = get_object_or_404(QuarantinedRow.objects.select_related("file"), pk=row_id)
    _quarantine_viewed(request, [row], "quarantine_detail")
    errors: list[str] = []
    if request.method == "POST":
        try:
            if request.POST.get("action") == "discard":
                quarantine_discard(row=row, actor=request.user, note=request.POST.get("note", ""))
                messages.success(request, f"{row.file.file_name} {row.line}行目を破棄しました。")
                return redirect("quarantine_list")
            corrected = {k: request.POST.get(k, "") for k in row.raw}
            outcome = quarantine_resubmit(row=row, corrected=corrected, actor=request.user)
            if outcome.status != ResubmitStatus.INVALID:
                messages.success(request, outcome.message())
                return redirect("quarantine_list")
            errors = [f"{e.field}: {e.reason}" for e in outcome.errors]
        except QuarantineError as error:
            errors = [str(error)]
    fields = [(name, request.POST.get(name, value)) for name, value in row.raw.items()]
    context = {"row": row, "fields": fields, "errors": errors, "purpose": Purpose.NHI_ELIGIBILITY}
    return render(request, "web/quarantine_detail.html", context)


@requires(Perm.IMPORT_FILES)
def imports(request: HttpRequest) -> HttpResponse:
    """取込: upload a 住基異動, 所得 or レセプト file for the background worker; recent 取込依頼."""
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_submit(
                kind=ImportKind(form.cleaned_data["kind"]),
                upload=form.cleaned_data["file"],
                actor=request.user,
            )
        except ImportJobError as error:
            form.add_error("file", str(error))
        else:
            messages.success(request, f"{job.file_name} の取込を受け付けました。")
            return redirect("import_job_detail", job_id=job.pk)
    import_files_interrupted_mark()
    context = {"form": form, "jobs": import_jobs_recent(limit=20)}
    return render(request, "web/imports.html", context)


@requires(Perm.IMPORT_FILES)
def import_job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    """取込依頼: progress while the worker runs (htmx polls the fragment), then the result."""
    import_files_interrupted_mark()
    job = import_job_get(job_id=job_id)
    template = "web/_import_job.html" if request.htmx else "web/import_job.html"
    return render(request, template, {"job": job})


@requires(Perm.IMPORT_FILES)
@require_POST
def import_job_resume_view(request: HttpRequest, job_id: int) -> HttpResponse:
    """続きから再開: the stored file of a stopped 取込依頼 queued again."""
    try:
        job = import_job_resume(job_id=job_id, actor=request.user)
    except ImportJobError as error:
        messages.error(request, str(error))
        return redirect("import_job_detail", job_id=job_id)
    messages.success(request, f"{job.file_name} の取込を続きから再開します。")
    return redirect("import_job_detail", job_id=job.pk)

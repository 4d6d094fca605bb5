"""Counter screens (窓口画面). Thin: parse input, call one service, render."""

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kokuho.accounts.decorators import public, requires
from kokuho.accounts.permissions import Perm
from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.purposes import Purpose, PurposeError, parse_purpose
from kokuho.people.services import household_view, person_search_audited, person_view
from kokuho.web.forms import PersonSearchForm

DEFAULT_PURPOSE = Purpose.NHI_ELIGIBILITY


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
    form = PersonSearchForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid():
        criteria = form.criteria()
        if criteria.is_empty:
            form.add_error(None, "氏名カナ・生年月日・宛名番号のいずれかを入力してください。")
        else:
            results = person_search_audited(
                criteria=criteria, actor=request.user, purpose=purpose, screen="search"
            )
    context = {"form": form, "results": results, "purpose": purpose, "purposes": Purpose}
    template = "web/_search_results.html" if request.htmx else "web/search.html"
    return render(request, template, context)


@requires(Perm.PEOPLE_VIEW)
def person_detail(request: HttpRequest, atena_no: str) -> HttpResponse:
    purpose = _purpose(request)
    if isinstance(purpose, HttpResponse):
        return purpose
    record = person_view(
        atena_no=atena_no, actor=request.user, purpose=purpose, screen="person_detail"
    )
    return render(request, "web/person.html", {"record": record, "purpose": purpose})


@requires(Perm.PEOPLE_VIEW)
def household_detail(request: HttpRequest, household_no: str) -> HttpResponse:
    purpose = _purpose(request)
    if isinstance(purpose, HttpResponse):
        return purpose
    record = household_view(
        household_no=household_no, actor=request.user, purpose=purpose, screen="household_detail"
    )
    return render(request, "web/household.html", {"record": record, "purpose": purpose})


@public
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for a load balancer: says nothing about data."""
    return HttpResponse("ok", content_type="text/plain")


login = public(
    auth_views.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True)
)
logout = public(auth_views.LogoutView.as_view())

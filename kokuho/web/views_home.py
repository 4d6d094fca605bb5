"""ホーム (the staff home): where every account lands after login — its own open work.

Thin: `selectors_home.home_sections` builds the sections; the page is open to every signed-in
account (`signed_in`: MFA enforced, no permission), and shows only what the account's
rights open.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from kokuho.accounts.decorators import signed_in
from kokuho.accounts.services import training_valid
from kokuho.core.purposes import Purpose
from kokuho.web.forms import PersonSearchForm
from kokuho.web.selectors_home import home_sections


@require_safe
@signed_in
def home(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    page = home_sections(
        user=request.user, today=today, training_valid=training_valid(request.user, today)
    )
    context = {
        "page": page,
        "search_form": PersonSearchForm() if page.can_search else None,
        "search_purpose": Purpose.NHI_ELIGIBILITY,
    }
    return render(request, "web/home.html", context)

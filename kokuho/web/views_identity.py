"""個人番号 screens: the masked number on the person page, reveal with a reason, registration.

The number travels only in POST bodies and in the one response that reveals it (the
middleware sends `Cache-Control: no-store` on every authenticated page); it is never in a
URL. Every decision — purpose, role, MFA, reason — is the identity service's, not these
views'.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from kokuho.accounts.decorators import requires
from kokuho.accounts.permissions import Perm
from kokuho.core.purposes import Purpose
from kokuho.identity.services import (
    MyNumberRefused,
    VaultError,
    my_number_masked,
    my_number_register,
    my_number_reveal,
)
from kokuho.web.forms import MyNumberRegisterForm, MyNumberRevealForm

TEMPLATE = "web/_my_number.html"


def _purpose(request: HttpRequest) -> str:
    return request.POST.get("purpose") or request.GET.get("purpose") or Purpose.NHI_ELIGIBILITY


def _context(request: HttpRequest, atena_no: str, purpose: str, **extra: object) -> dict:
    masked, refused = None, ""
    try:
        masked = my_number_masked(actor=request.user, atena_no=atena_no, purpose=purpose)
    except MyNumberRefused as error:
        refused = str(error)
    return {
        "atena_no": atena_no,
        "purpose": purpose,
        "masked": masked,
        "refused": refused,
        "can_reveal": request.user.has_perm(Perm.MY_NUMBER_REVEAL),
        "can_register": request.user.has_perm(Perm.ELIGIBILITY_CHANGE),
        "reveal_form": MyNumberRevealForm(initial={"purpose": purpose}),
        "register_form": MyNumberRegisterForm(initial={"purpose": purpose}),
        **extra,
    }


@requires(Perm.PEOPLE_VIEW)
def my_number_panel(request: HttpRequest, atena_no: str) -> HttpResponse:
    """The person page's 個人番号 panel (masked), loaded by htmx."""
    return render(request, TEMPLATE, _context(request, atena_no, _purpose(request)))


def _submit(
    request: HttpRequest,
    atena_no: str,
    form: forms.Form,
    form_name: str,
    perform: Callable[[dict[str, Any]], dict[str, object]],
    error_status: int,
) -> HttpResponse:
    """Validate, call the identity service, render the panel with its result or refusal. A
    refused form is not sent back filled in: the number typed stays out of the response."""
    purpose = _purpose(request)
    if not form.is_valid():
        return render(request, TEMPLATE, _context(request, atena_no, purpose, **{form_name: form}))
    try:
        outcome = perform(form.cleaned_data)
    except (MyNumberRefused, VaultError) as error:
        context = _context(request, atena_no, purpose, error=str(error))
        return render(request, TEMPLATE, context, status=error_status)
    return render(request, TEMPLATE, _context(request, atena_no, purpose, **outcome))


@require_POST
@requires(Perm.MY_NUMBER_REVEAL)
def my_number_reveal_view(request: HttpRequest, atena_no: str) -> HttpResponse:
    def reveal(data: dict[str, Any]) -> dict[str, object]:
        number = my_number_reveal(
            actor=request.user, atena_no=atena_no, purpose=data["purpose"], reason=data["reason"]
        )
        return {"revealed": f"{number[:4]} {number[4:8]} {number[8:]}"}

    form = MyNumberRevealForm(request.POST)
    return _submit(request, atena_no, form, "reveal_form", reveal, error_status=403)


@require_POST
@requires(Perm.ELIGIBILITY_CHANGE)
def my_number_register_view(request: HttpRequest, atena_no: str) -> HttpResponse:
    def register(data: dict[str, Any]) -> dict[str, object]:
        done = my_number_register(
            actor=request.user,
            atena_no=atena_no,
            my_number=data["my_number"],
            purpose=data["purpose"],
            number_check=data["number_check"],
            identity_checks=data["identity_checks"],
        )
        return {"message": f"個人番号を登録しました（団体内統合宛名番号 {done.integrated_no}）"}

    form = MyNumberRegisterForm(request.POST)
    return _submit(request, atena_no, form, "register_form", register, error_status=400)

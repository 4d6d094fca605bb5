"""Deny by default: a request reaches a view only if the view's declared permission is held.

The same place enforces the two account controls that depend on what a view opens, so that
no view can forget them (privacy.md, 権限のない者 / 従業者教育):
- an account whose roles need a second factor sees nothing but the MFA pages until its
  session has passed TOTP;
- a view whose permission touches personal data refuses an account whose
  特定個人情報の取扱い研修 has lapsed.
"""

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from kokuho.accounts.decorators import (
    declared_permission,
    is_mfa_step,
    is_public,
    is_signed_in_only,
)
from kokuho.accounts.permissions import PERSONAL_DATA_PERMISSIONS

logger = logging.getLogger(__name__)

TRAINING_LAPSED_MESSAGE = (
    "研修の受講期限が切れています。特定個人情報の取扱い研修を受講するまで、"
    "個人情報を扱う画面は利用できません（研修の記録は所属の管理者にご連絡ください）。"
)


class PermissionRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated:
            # Personal data must not linger in browser or proxy caches (privacy.md §6).
            add_never_cache_headers(response)
        return response

    def process_view(
        self, request: HttpRequest, view_func: Any, view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        from kokuho.accounts.services import (
            mfa_required,
            mfa_verified,
            training_refusal_record,
            training_valid,
        )

        if is_public(view_func):
            return None
        mfa_step = is_mfa_step(view_func)
        permission = declared_permission(view_func)
        signed_in = is_signed_in_only(view_func)
        if permission is None and not mfa_step and not signed_in:
            logger.error("view %s declares no permission; refused", view_func)
            return _forbidden(request, "この画面には権限が定義されていないため利用できません。")
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if mfa_step:
            return None  # the MFA pages themselves: signed in, second factor pending
        if mfa_required(request.user) and not mfa_verified(request.user):
            return _to_mfa(request)
        if signed_in:
            return None  # the home: any account, its content filtered by the account's rights
        if not request.user.has_perm(permission):
            from kokuho.audit.services import audit_record_denied

            audit_record_denied(actor=request.user, permission=str(permission), path=request.path)
            return _forbidden(request, f"この操作の権限がありません（{permission.label}）。")
        if permission in PERSONAL_DATA_PERMISSIONS and not training_valid(
            request.user, timezone.localdate()
        ):
            training_refusal_record(
                user=request.user, permission=str(permission), path=request.path
            )
            return _forbidden(request, TRAINING_LAPSED_MESSAGE)
        return None


def _to_mfa(request: HttpRequest) -> HttpResponse:
    """To the code page (or enrollment, which that page sends on to), keeping where the
    clerk was going. An htmx fragment request gets the redirect as a full-page one."""
    url = f"{reverse('account_mfa_verify')}?{urlencode({'next': request.get_full_path()})}"
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return TemplateResponse(request, "web/forbidden.html", {"message": message}, status=403)

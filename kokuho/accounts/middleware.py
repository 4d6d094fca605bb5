"""Deny by default: a request reaches a view only if the view's declared permission is held."""

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers

from kokuho.accounts.decorators import declared_permission, is_public

logger = logging.getLogger(__name__)


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
        if is_public(view_func):
            return None
        permission = declared_permission(view_func)
        if permission is None:
            logger.error("view %s declares no permission; refused", view_func)
            return _forbidden(request, "この画面には権限が定義されていないため利用できません。")
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm(permission):
            from kokuho.audit.services import audit_record_denied

            audit_record_denied(actor=request.user, permission=str(permission), path=request.path)
            return _forbidden(request, f"この操作の権限がありません（{permission.label}）。")
        return None


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return TemplateResponse(request, "web/forbidden.html", {"message": message}, status=403)

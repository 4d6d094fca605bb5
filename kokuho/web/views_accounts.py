"""Account screens (職員アカウント): log-in, the second factor (TOTP), the lockout page and the
access review (定期点検). Thin: the decisions are in accounts.services and the middleware."""

from base64 import b32encode
from datetime import date
from typing import Any
from urllib.parse import urlencode, urlsplit

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods

from kokuho.accounts.decorators import declared_permission, mfa_step, public, requires
from kokuho.accounts.models import TrainingCourse
from kokuho.accounts.permissions import Perm
from kokuho.accounts.selectors import (
    ReviewFlag,
    access_review_flagged,
    login_locks_current,
    mfa_device_confirmed,
    mfa_device_pending,
    training_records_of,
)
from kokuho.accounts.services import (
    access_review_run,
    login_lock_lift,
    mfa_enrollment_confirm,
    mfa_enrollment_start,
    mfa_required,
    mfa_session_verify,
    mfa_verified,
    mfa_verify,
    training_record,
    training_valid,
)
from kokuho.web.views_audit import DATE_HELP, _day


def _landing(user: Any, target: str) -> str:
    """`target`, unless it is a page the account may not open (e.g. `/`, the search, for the
    管理者): then the account's home — a login never ends on a 403."""
    try:
        match = resolve(urlsplit(target).path)
    except Resolver404:
        return target
    permission = declared_permission(match.func)
    if permission is not None and not user.has_perm(permission):
        return reverse("home")
    return target


def _next(request: HttpRequest) -> str:
    """Where the clerk was going, if it is a page of this site (and one the account may
    open); else the account's home."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return _landing(request.user, target)
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, target: str) -> str:
    return f"{reverse(name)}?{urlencode({'next': target})}"


class AccountLoginView(auth_views.LoginView):
    """ログイン. The password step; an account that needs a second factor goes on to the
    code page (the middleware would send it there anyway, this saves a round trip)."""

    template_name = "web/login.html"
    redirect_authenticated_user = True

    def get_success_url(self) -> str:
        url = _landing(self.request.user, super().get_success_url())
        if mfa_required(self.request.user) and not mfa_verified(self.request.user):
            return _with_next("account_mfa_verify", url)
        return url


login = public(AccountLoginView.as_view())
logout = public(auth_views.LogoutView.as_view())


def account_locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """The page django-axes shows instead of the login form while a lock lasts."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT}
    return render(request, "web/account_locked.html", context, status=429)


@mfa_step
@require_http_methods(["GET", "POST"])
def account_mfa_verify(request: HttpRequest) -> HttpResponse:
    """二要素認証: the 6-digit code from the staff member's authenticator app."""
    target = _next(request)
    if not mfa_required(request.user) or mfa_verified(request.user):
        return redirect(target)
    if mfa_device_confirmed(user=request.user) is None:
        return redirect(_with_next("account_mfa_enroll", target))
    error = ""
    if request.method == "POST":
        result = mfa_verify(user=request.user, token=request.POST.get("token", ""))
        if result.device is not None:
            mfa_session_verify(request=request, device=result.device)
            return redirect(target)
        error = result.message
    return render(request, "web/account_mfa_verify.html", {"next": target, "error": error})


@mfa_step
@require_http_methods(["GET", "POST"])
def account_mfa_enroll(request: HttpRequest) -> HttpResponse:
    """二要素認証の登録: a new key as a QR code and as text, shown only until it is confirmed
    with a first code; then never again."""
    target = _next(request)
    if not mfa_required(request.user):
        return redirect(target)
    if mfa_device_confirmed(user=request.user) is not None:
        return redirect(_with_next("account_mfa_verify", target))
    error = ""
    if request.method == "POST":
        result = mfa_enrollment_confirm(user=request.user, token=request.POST.get("token", ""))
        if result.device is not None:
            mfa_session_verify(request=request, device=result.device)
            messages.success(
                request, "二要素認証を登録しました。次回からは確認コードを入力します。"
            )
            return redirect(target)
        error = result.message
        # The same key again, so the clerk can retry without scanning a new one.
        device = mfa_device_pending(user=request.user) or mfa_enrollment_start(user=request.user)
    else:
        device = mfa_enrollment_start(user=request.user)
    secret = b32encode(device.bin_key).decode()
    context = {
        "next": target,
        "error": error,
        # segno writes the SVG itself from the otpauth URI: nothing user-supplied in it.
        "qr_svg": mark_safe(segno.make(device.config_url, error="m").svg_inline(scale=4)),  # noqa: S308
        "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
    }
    return render(request, "web/account_mfa_enroll.html", context)


@requires(Perm.STAFF_MANAGE)
def account_access_review(request: HttpRequest) -> HttpResponse:
    """アクセス権の定期点検: every account and what needs looking at (the visit is audited)."""
    today = timezone.localdate()
    rows = access_review_run(actor=request.user, on=today, via="screen")
    context = {
        "rows": rows,
        "flagged": access_review_flagged(rows=rows),
        "today": today,
        "flag_labels": [(flag, flag.label) for flag in ReviewFlag],
    }
    return render(request, "web/account_access_review.html", context)


class TrainingForm(forms.Form):
    course = forms.ChoiceField(label="研修", choices=TrainingCourse.choices)
    completed_on = forms.CharField(label="受講日", max_length=30, help_text=DATE_HELP)
    expires_on = forms.CharField(
        label="有効期限（空欄は受講日から既定の日数）", max_length=30, required=False
    )

    def clean_completed_on(self) -> date:
        day = _day(self.cleaned_data["completed_on"])
        if day is None:
            raise forms.ValidationError("受講日を入力してください。")
        if day > timezone.localdate():
            raise forms.ValidationError("受講日が未来の日付です。")
        return day

    def clean_expires_on(self) -> date | None:
        return _day(self.cleaned_data["expires_on"])


@requires(Perm.STAFF_MANAGE)
def account_staff_detail(request: HttpRequest, username: str) -> HttpResponse:
    """職員アカウントの詳細: roles, validity, training records (and recording one), locks."""
    staff = get_object_or_404(User.objects.select_related("staff_profile"), username=username)
    form = TrainingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            training_record(
                user=staff,
                course=TrainingCourse(data["course"]),
                completed_on=data["completed_on"],
                expires_on=data["expires_on"],
                recorded_by=request.user,
            )
        except ValueError as error:
            form.add_error("expires_on", str(error))
        else:
            messages.success(request, "研修の受講を記録しました。")
            return redirect("account_staff_detail", staff.username)
    today = timezone.localdate()
    context = {
        "staff": staff,
        "roles": sorted(g.name for g in staff.groups.all()),
        "records": training_records_of(user=staff),
        "training_valid": training_valid(staff, today),
        "locks": [lock for lock in login_locks_current() if lock.key == staff.username],
        "form": form,
        "today": today,
    }
    return render(request, "web/account_staff.html", context)


@requires(Perm.STAFF_MANAGE)
def account_locks(request: HttpRequest) -> HttpResponse:
    """ログイン停止中のアカウント・端末, and lifting a lock with a reason (audited)."""
    error = ""
    if request.method == "POST":
        try:
            cleared = login_lock_lift(
                kind=request.POST.get("kind", ""),
                key=request.POST.get("key", ""),
                actor=request.user,
                reason=request.POST.get("reason", ""),
            )
        except ValueError as refused:
            error = str(refused)
        else:
            messages.success(
                request, f"ログイン停止を解除しました（失敗記録 {cleared} 件を消去）。"
            )
            return redirect("account_locks")
    context = {"locks": login_locks_current(), "error": error}
    return render(request, "web/account_locks.html", context)

"""Staff account administration (職員アカウント管理)."""

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokuho.accounts.models import REQUIRED_COURSE, StaffProfile, TrainingCourse, TrainingRecord
from kokuho.accounts.permissions import MFA_PERMISSIONS, Role
from kokuho.accounts.selectors import (
    AccessReviewRow,
    access_review_rows,
    mfa_device_confirmed,
    mfa_device_pending,
)
from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record


def roles_sync() -> None:
    """Make sure a Group exists for every role (the rights themselves live in code)."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


def staff_create(
    *,
    username: str,
    full_name: str,
    password: str,
    roles: Iterable[Role],
    valid_from: date,
    valid_until: date | None = None,
    is_contractor: bool = False,
    department: str = "",
    is_demo: bool = False,
    actor: Any | None = None,
) -> User:
    """Create a named staff account with its roles and 利用期間; never a superuser."""
    roles = list(roles)
    if is_contractor and valid_until is None:
        raise ValueError("委託事業者のアカウントには契約期間の終了日が必要です。")
    with transaction.atomic():
        roles_sync()
        user = User.objects.create_user(username=username, password=password)
        StaffProfile.objects.create(
            user=user,
            full_name=full_name,
            department=department,
            valid_from=valid_from,
            valid_until=valid_until,
            is_contractor=is_contractor,
            is_demo=is_demo,
        )
        user.groups.set(Group.objects.filter(name__in=[r.value for r in roles]))
        audit_event_record(
            event_type=EventType.STAFF_CREATED,
            actor=actor,
            subject_type=SubjectType.STAFF,
            subject_id=username,
            extra={
                "roles": [r.value for r in roles],
                "valid_from": valid_from.isoformat(),
                "valid_until": valid_until.isoformat() if valid_until else None,
                "contractor": is_contractor,
            },
        )
    return user


# --- 二要素認証 (TOTP) -------------------------------------------------------------------------

TOTP_DEVICE_NAME = "認証アプリ"


def mfa_required(user: Any) -> bool:
    """二要素認証が必要か: True when one of the account's roles may reveal a My Number or take
    personal data out (`MFA_PERMISSIONS`)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    # The backend caches the role rights on the user object: no query per request.
    return bool(set(user.get_all_permissions()) & {str(p) for p in MFA_PERMISSIONS})


def mfa_verified(user: Any) -> bool:
    """二要素認証済みか: True when this user object belongs to a session that passed TOTP.

    django-otp's middleware marks the request's user (`is_verified()`); a user loaded any
    other way — a management command, another request's object — is never verified.
    """
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified()) if callable(is_verified) else False


def mfa_enrollment_start(*, user: User) -> TOTPDevice:
    """二要素認証の登録開始: a fresh, unconfirmed TOTP key for the account.

    Any earlier unconfirmed key is dropped, so a secret that was on a screen and not
    confirmed can never become the account's factor later.
    """
    if mfa_device_confirmed(user=user) is not None:
        raise ValueError("二要素認証はすでに登録されています。")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)


@dataclass(frozen=True)
class MfaResult:
    """The device that accepted the code (None: refused) and, if refused, why."""

    device: TOTPDevice | None
    message: str = ""


def _totp_check(*, device: TOTPDevice, token: str) -> MfaResult:
    allowed, _why = device.verify_is_allowed()
    if not allowed:
        # django-otp's throttle: after each failure the next try waits longer (1, 2, 4 … s).
        return MfaResult(None, "失敗が続いたため、しばらく待ってから入力してください。")
    if device.verify_token((token or "").strip()):
        return MfaResult(device)
    return MfaResult(None, "確認コードが正しくありません。")


def mfa_enrollment_confirm(*, user: User, token: str) -> MfaResult:
    """二要素認証の登録: the first code from the app confirms the pending key (audited).
    The caller then marks the session verified (`mfa_session_verify`)."""
    device = mfa_device_pending(user=user)
    if device is None:
        return MfaResult(None, "登録手続きの有効期限が切れました。もう一度やり直してください。")
    with transaction.atomic():
        result = _totp_check(device=device, token=token)
        if result.device is None:
            audit_event_record(
                event_type=EventType.MFA_FAILED,
                actor=user,
                subject_type=SubjectType.STAFF,
                subject_id=user.get_username(),
                extra={"step": "enrollment"},
            )
            return result
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_event_record(
            event_type=EventType.MFA_ENROLLED,
            actor=user,
            subject_type=SubjectType.STAFF,
            subject_id=user.get_username(),
            extra={"device": device.persistent_id},
        )
    return result


def mfa_verify(*, user: User, token: str) -> MfaResult:
    """二要素認証の確認: check a 6-digit code against the account's confirmed device (audited
    either way). The caller marks the session verified (`mfa_session_verify`)."""
    device = mfa_device_confirmed(user=user)
    if device is None:
        return MfaResult(None, "二要素認証が登録されていません。")
    with transaction.atomic():
        result = _totp_check(device=device, token=token)
        audit_event_record(
            event_type=EventType.MFA_VERIFIED if result.device else EventType.MFA_FAILED,
            actor=user,
            subject_type=SubjectType.STAFF,
            subject_id=user.get_username(),
            extra={"step": "login"} if result.device else {"step": "login", "why": result.message},
        )
    return result


def mfa_session_verify(*, request: HttpRequest, device: TOTPDevice) -> None:
    """二要素認証済みにする: the session passes the second factor under a new session key.

    The password step already gave the session a new key (`django.contrib.auth.login`);
    this one gives it another, so a key seen before the code was typed — on the screen of
    a shared counter PC, in a proxy's log — never opens the personal data it now opens.
    django-otp's `login` only records the device in the session.
    """
    request.session.cycle_key()
    otp_login(request, device)


def mfa_device_create_confirmed(*, user: User) -> TOTPDevice:
    """A confirmed device without the enrollment screen — for demo accounts and test builders
    only (the demo writes the secret into var/demo-logins.txt)."""
    return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=True)


def login_lockout_record(*, username: str, remote_addr: str, failures: int) -> None:
    """ログインの一時停止: record once, when repeated failures lock a username or terminal."""
    audit_event_record(
        event_type=EventType.LOGIN_LOCKED_OUT,
        actor=None,
        subject_type=SubjectType.STAFF,
        subject_id=username[:40],
        extra={
            "remote_addr": remote_addr,
            "failures": failures,
            "lock_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        },
    )


def login_lock_lift(*, kind: str, key: str, actor: Any, reason: str) -> int:
    """ログイン停止の解除 by an administrator before the lock period ends (the clerk was
    identified in person, the cause is known). Audited with the reason; returns how many
    failure records were cleared (0: nothing was locked)."""
    from axes.utils import reset

    if kind not in ("username", "ip_address"):
        raise ValueError(f"解除の対象が不正です: {kind!r}")
    if not reason.strip():
        raise ValueError("解除の理由を入力してください。")
    with transaction.atomic():
        cleared = reset(username=key) if kind == "username" else reset(ip=key)
        audit_event_record(
            event_type=EventType.ACCOUNT_UNLOCKED,
            actor=actor,
            subject_type=SubjectType.STAFF,
            subject_id=key[:40] if kind == "username" else "",
            extra={"kind": kind, "key": key[:60], "cleared": cleared, "reason": reason[:200]},
        )
    return cleared


def mfa_code_for_demo(*, user: User | None) -> str:
    """The current TOTP code of a demo account — what its authenticator app would show.
    Refused for every account not marked as a demo one (a real factor stays a factor)."""
    profile = getattr(user, "staff_profile", None) if user is not None else None
    if profile is None or not profile.is_demo:
        raise ValueError("デモ用アカウントではありません。確認コードは表示できません。")
    device = mfa_device_confirmed(user=user)
    if device is None:
        raise ValueError("このデモ用アカウントは二要素認証を使いません。")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


# --- 研修 (従業者に対する教育・啓発) ------------------------------------------------------------


def training_record(
    *,
    user: User,
    course: TrainingCourse,
    completed_on: date,
    expires_on: date | None = None,
    recorded_by: Any | None,
) -> TrainingRecord:
    """研修受講の記録 (audited). Without an expiry the course is valid for
    `KOKUHO_TRAINING_VALID_DAYS` from the day it was completed."""
    if expires_on is None:
        expires_on = completed_on + timedelta(days=settings.KOKUHO_TRAINING_VALID_DAYS)
    if expires_on < completed_on:
        raise ValueError("有効期限は受講日より後の日付にしてください。")
    actor = recorded_by if getattr(recorded_by, "is_authenticated", False) else None
    with transaction.atomic():
        record = TrainingRecord.objects.create(
            user=user,
            course=course,
            completed_on=completed_on,
            expires_on=expires_on,
            recorded_by=actor,
        )
        audit_event_record(
            event_type=EventType.TRAINING_RECORDED,
            actor=actor,
            subject_type=SubjectType.STAFF,
            subject_id=user.get_username(),
            extra={
                "course": str(course),
                "completed_on": completed_on.isoformat(),
                "expires_on": expires_on.isoformat(),
            },
        )
    return record


def training_valid(user: Any, on: date) -> bool:
    """研修が有効か: the account completed 特定個人情報の取扱い研修 on or before `on` and
    that record has not expired by `on`."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return TrainingRecord.objects.filter(
        user_id=user.pk, course=REQUIRED_COURSE, completed_on__lte=on, expires_on__gte=on
    ).exists()


def training_refusal_record(*, user: Any, permission: str, path: str) -> None:
    """Record that a lapsed-training account was kept from personal data."""
    audit_event_record(
        event_type=EventType.TRAINING_REFUSED,
        actor=user,
        subject_type=SubjectType.STAFF,
        subject_id=user.get_username(),
        extra={"permission": permission, "path": path[:200]},
    )


# --- 定期点検 (access review) ----------------------------------------------------------------


def access_review_run(*, actor: Any | None, on: date, via: str) -> list[AccessReviewRow]:
    """アクセス権の定期点検: every account with its rights and findings as of `on`; the
    generation itself is an audit event (who looked, how many findings)."""
    rows = access_review_rows(on=on)
    flagged: dict[str, int] = {}
    for row in rows:
        for flag in row.flags:
            flagged[flag.value] = flagged.get(flag.value, 0) + 1
    audit_event_record(
        event_type=EventType.ACCESS_REVIEW,
        actor=actor,
        subject_type=SubjectType.SYSTEM,
        extra={"on": on.isoformat(), "accounts": len(rows), "flags": flagged, "via": via},
    )
    return rows

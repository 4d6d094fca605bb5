"""Reads about staff accounts (職員アカウント): MFA devices and the access review (定期点検)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.contrib.auth.models import User
from django.db.models import Max
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokuho.accounts.models import REQUIRED_COURSE, TrainingRecord
from kokuho.accounts.permissions import (
    MFA_PERMISSIONS,
    PERSONAL_DATA_PERMISSIONS,
    permissions_for_roles,
)

# An account unused this long is reported as 休眠 (dormant): a right nobody uses is a right
# to withdraw (自己点検).
DORMANT_AFTER = timedelta(days=90)
# 従業者教育: the review names staff whose course runs out within this, to book the next one.
TRAINING_DUE_WITHIN = timedelta(days=30)


def mfa_device_confirmed(*, user: User) -> TOTPDevice | None:
    """The account's confirmed TOTP device (認証アプリ), if it has enrolled one."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def mfa_device_pending(*, user: User) -> TOTPDevice | None:
    """The key shown on the enrollment page and not yet confirmed with a code."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


class ReviewFlag(StrEnum):
    """定期点検の指摘. The value is the code in the report and the audit event."""

    EXPIRED_BUT_ACTIVE = "expired_but_active"
    DORMANT = "dormant"
    CONTRACTOR_WITHOUT_END = "contractor_without_end"
    MFA_MISSING = "mfa_missing"
    TRAINING_LAPSED = "training_lapsed"
    TRAINING_DUE = "training_due"

    @property
    def label(self) -> str:
        return REVIEW_FLAG_LABELS[self]


REVIEW_FLAG_LABELS: dict[ReviewFlag, str] = {
    ReviewFlag.EXPIRED_BUT_ACTIVE: "利用期間終了後も有効",
    ReviewFlag.DORMANT: f"休眠（{DORMANT_AFTER.days}日超未使用）",
    ReviewFlag.CONTRACTOR_WITHOUT_END: "委託事業者で終了日なし",
    ReviewFlag.MFA_MISSING: "二要素認証未登録",
    ReviewFlag.TRAINING_LAPSED: "研修期限切れ",
    ReviewFlag.TRAINING_DUE: f"研修期限間近（{TRAINING_DUE_WITHIN.days}日以内）",
}


@dataclass(frozen=True)
class AccessReviewRow:
    """One account as the 定期点検 sees it."""

    username: str
    full_name: str
    department: str
    roles: tuple[str, ...]
    permission_count: int
    is_active: bool
    is_contractor: bool
    is_demo: bool
    valid_from: date | None
    valid_until: date | None
    last_login: datetime | None
    mfa_required: bool
    mfa_enrolled: bool
    training_needed: bool
    training_valid_until: date | None
    flags: tuple[ReviewFlag, ...]

    @property
    def contract_end(self) -> date | None:
        return self.valid_until if self.is_contractor else None


def access_review_rows(*, on: date) -> list[AccessReviewRow]:
    """Every account with roles, rights, validity, last use, MFA and training as of `on`,
    and what the review should look at (`flags`). Four queries whatever the staff size."""
    users = list(
        User.objects.select_related("staff_profile").prefetch_related("groups").order_by("username")
    )
    enrolled = set(
        TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True).distinct()
    )
    # The latest expiry among records already completed by `on` (a future course does not
    # count yet).
    trained_until = dict(
        TrainingRecord.objects.filter(course=REQUIRED_COURSE, completed_on__lte=on)
        .values("user_id")
        .annotate(until=Max("expires_on"))
        .values_list("user_id", "until")
    )
    dormant_before = on - DORMANT_AFTER
    rows = []
    for user in users:
        profile = getattr(user, "staff_profile", None)
        roles = tuple(sorted(g.name for g in user.groups.all()))
        permissions = permissions_for_roles(set(roles))
        valid_until = profile.valid_until if profile else None
        is_contractor = bool(profile and profile.is_contractor)
        current = bool(
            user.is_active
            and profile is not None
            and profile.valid_from <= on
            and (valid_until is None or on <= valid_until)
        )
        mfa_required = bool(permissions & MFA_PERMISSIONS)
        training_needed = bool(permissions & PERSONAL_DATA_PERMISSIONS)
        until = trained_until.get(user.pk)
        last_used = timezone.localdate(user.last_login or user.date_joined)

        flags = []
        if user.is_active and valid_until is not None and valid_until < on:
            flags.append(ReviewFlag.EXPIRED_BUT_ACTIVE)
        if current and last_used < dormant_before:
            flags.append(ReviewFlag.DORMANT)
        if is_contractor and valid_until is None:
            flags.append(ReviewFlag.CONTRACTOR_WITHOUT_END)
        if current and mfa_required and user.pk not in enrolled:
            flags.append(ReviewFlag.MFA_MISSING)
        if current and training_needed and (until is None or until < on):
            flags.append(ReviewFlag.TRAINING_LAPSED)
        elif current and training_needed and until is not None and until < on + TRAINING_DUE_WITHIN:
            flags.append(ReviewFlag.TRAINING_DUE)

        rows.append(
            AccessReviewRow(
                username=user.username,
                full_name=profile.full_name if profile else "",
                department=profile.department if profile else "",
                roles=roles,
                permission_count=len(permissions),
                is_active=user.is_active,
                is_contractor=is_contractor,
                is_demo=bool(profile and profile.is_demo),
                valid_from=profile.valid_from if profile else None,
                valid_until=valid_until,
                last_login=user.last_login,
                mfa_required=mfa_required,
                mfa_enrolled=user.pk in enrolled,
                training_needed=training_needed,
                training_valid_until=until,
                flags=tuple(flags),
            )
        )
    return rows


def access_review_flagged(*, rows: list[AccessReviewRow]) -> list[AccessReviewRow]:
    return [row for row in rows if row.flags]


# --- ログインの一時停止 (lockout) ---------------------------------------------------------------


@dataclass(frozen=True)
class LoginLock:
    """A username or a terminal locked now by repeated failures (django-axes' records)."""

    kind: str  # "username" | "ip_address"
    key: str
    failures: int
    last_attempt: datetime

    @property
    def kind_label(self) -> str:
        return "アカウント" if self.kind == "username" else "端末"


def login_locks_current(*, now: datetime | None = None) -> list[LoginLock]:
    """Usernames and terminals at or over the failure limit within the lock period — each
    locked on its own, as the settings lock them (decision 37)."""
    from axes.models import AccessAttempt
    from django.conf import settings
    from django.db.models import Sum

    now = now or timezone.now()
    recent = AccessAttempt.objects.filter(attempt_time__gte=now - settings.AXES_COOLOFF_TIME)
    locks: list[LoginLock] = []
    for kind in ("username", "ip_address"):
        rows = (
            recent.exclude(**{f"{kind}__isnull": True})
            .values(kind)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
            .order_by(kind)
        )
        locks += [LoginLock(kind, str(r[kind]), int(r["failures"]), r["last"]) for r in rows]
    return locks


def training_records_of(*, user: User) -> list[TrainingRecord]:
    return list(
        TrainingRecord.objects.filter(user=user)
        .select_related("recorded_by")
        .order_by("-completed_on", "-pk")
    )

"""Staff account administration (職員アカウント管理)."""

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import transaction

from kokuho.accounts.models import StaffProfile
from kokuho.accounts.permissions import Role
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

"""Authentication backend: Argon2 passwords (settings), validity windows, role permissions."""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.utils import timezone

from kokuho.accounts.permissions import permissions_for_roles


def account_is_current(user: Any) -> bool:
    """True when the account is active and today is inside its 利用期間."""
    if not user.is_active:
        return False
    profile = getattr(user, "staff_profile", None)
    if profile is None:
        return False  # no profile, no named staff member: deny
    today = timezone.localdate()
    if today < profile.valid_from:
        return False
    return profile.valid_until is None or today <= profile.valid_until


class StaffBackend(ModelBackend):
    def user_can_authenticate(self, user: Any) -> bool:
        return account_is_current(user)

    def get_user(self, user_id: Any) -> Any:
        # Checked on every request, so an account that expires mid-session stops working.
        user = super().get_user(user_id)
        return user if user is not None and account_is_current(user) else None

    def get_group_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_kokuho_role_perms"):
            names = set(user_obj.groups.values_list("name", flat=True))
            user_obj._kokuho_role_perms = {str(p) for p in permissions_for_roles(names)}
        return set(user_obj._kokuho_role_perms)

    def get_user_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return set()  # rights come from roles only, never granted one by one

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        return self.get_group_permissions(user_obj, obj)

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return account_is_current(user_obj) and perm in self.get_all_permissions(user_obj, obj)

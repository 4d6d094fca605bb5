"""Every view declares who may call it; `PermissionRequiredMiddleware` enforces it.

A view with none of `requires(...)`, `public` or `mfa_step` is refused (deny by default), and the
URL-walking test fails on it.
"""

from collections.abc import Callable
from typing import Any

from kokuho.accounts.permissions import Perm


def requires[View: Callable[..., Any]](permission: Perm) -> Callable[[View], View]:
    def mark(view: View) -> View:
        view.kokuho_permission = permission  # type: ignore[attr-defined]
        return view

    return mark


def public[View: Callable[..., Any]](view: View) -> View:
    """For the login page and the like: no login, no permission."""
    view.kokuho_public = True  # type: ignore[attr-defined]
    return view


def mfa_step[View: Callable[..., Any]](view: View) -> View:
    """For the second-factor pages (code entry, enrollment): signed in, but reachable before
    the session is MFA-verified and without any permission."""
    view.kokuho_mfa_step = True  # type: ignore[attr-defined]
    return view


def signed_in[View: Callable[..., Any]](view: View) -> View:
    """For the staff home (ホーム) only: any signed-in account past its second factor, without
    a permission — what it shows is filtered by the account's rights. Personal data is never
    on such a page (counts and links only), so the training gate does not apply."""
    view.kokuho_signed_in = True  # type: ignore[attr-defined]
    return view


def declared_permission(view: Any) -> Perm | None:
    target = getattr(view, "view_class", view)
    return getattr(view, "kokuho_permission", None) or getattr(target, "kokuho_permission", None)


def is_public(view: Any) -> bool:
    target = getattr(view, "view_class", view)
    return bool(getattr(view, "kokuho_public", False) or getattr(target, "kokuho_public", False))


def is_mfa_step(view: Any) -> bool:
    target = getattr(view, "view_class", view)
    return bool(
        getattr(view, "kokuho_mfa_step", False) or getattr(target, "kokuho_mfa_step", False)
    )


def is_signed_in_only(view: Any) -> bool:
    target = getattr(view, "view_class", view)
    return bool(
        getattr(view, "kokuho_signed_in", False) or getattr(target, "kokuho_signed_in", False)
    )

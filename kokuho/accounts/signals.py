"""django-axes tells us when it locks a login; the audit trail records it once per lock."""

from typing import Any

from axes.signals import user_locked_out
from django.dispatch import receiver

from kokuho.accounts.services import login_lockout_record


@receiver(user_locked_out)
def _locked_out(
    sender: Any, request: Any, username: str | None, ip_address: Any, **kw: Any
) -> None:
    # Axes also sends this signal for each try refused while the lock lasts; only the try
    # that reached the limit has its failure count set (`axes_failures_since_start`).
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    login_lockout_record(
        username=username or "",
        remote_addr=str(ip_address or ""),
        failures=int(request.axes_failures_since_start),
    )

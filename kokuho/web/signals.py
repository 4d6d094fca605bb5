"""Log-in, log-out and failed log-in go to the audit trail (no password, ever)."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.client_ip import client_address


def _client(request: Any) -> dict[str, str]:
    if request is None:
        return {}
    return {"remote_addr": client_address(request)}


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_event_record(
        event_type=EventType.LOGIN,
        actor=user,
        subject_type=SubjectType.STAFF,
        subject_id=user.get_username(),
        extra=_client(request),
    )


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    audit_event_record(
        event_type=EventType.LOGOUT,
        actor=user,
        subject_type=SubjectType.STAFF,
        subject_id=user.get_username(),
        extra=_client(request),
    )


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    audit_event_record(
        event_type=EventType.LOGIN_FAILED,
        actor=None,
        subject_type=SubjectType.STAFF,
        subject_id=str(credentials.get("username", ""))[:40],
        extra=_client(request),
    )

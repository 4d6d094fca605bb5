"""`kokuho incidents reminders`: what cron prints; always exit 0."""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.audit.models import IncidentKind
from kokuho.audit.services import incident_open
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db


def _open(title: str, day: dt.date, **fields) -> None:
    incident_open(
        title=title,
        description="試験データ",
        discovered_at=timezone.make_aware(dt.datetime.combine(day, dt.time(9))),
        kind=IncidentKind.LOSS,
        wrongful_intent=False,
        includes_my_number=False,
        reportable=True,
        actor=make_staff(role=Role.AUDITOR),
        **fields,
    )


def _reminders(*args: str) -> str:
    out = io.StringIO()
    call_command("incidents", "reminders", *args, stdout=out)
    return out.getvalue()


def test_it_prints_overdue_and_due_soon_reports_with_wareki_dates():
    _open("USBメモリの紛失", dt.date(2025, 6, 2))
    text = _reminders("--on", "2025-06-09")
    assert "USBメモリの紛失" in text
    assert "【期限超過】速報 期限 令和7年6月7日（2025-06-07）（2日超過）" in text
    assert "【未記録】本人通知" in text
    assert "確報" not in text  # due 2 July: 期限内, not reminded


def test_it_accepts_a_wareki_date_and_says_when_nothing_is_due():
    _open("発覚したばかりの事案", dt.date(2025, 6, 2), persons_affected=3)
    text = _reminders("--on", "R7.6.3")
    assert "令和7年6月3日" in text
    assert "速報" not in text and "【未記録】本人通知" in text


def test_an_empty_register_prints_that_nothing_is_due():
    assert "期限の近い・過ぎた報告はありません" in _reminders("--on", "2025-06-03")


def test_a_bad_date_is_an_error():
    with pytest.raises(CommandError):
        call_command("incidents", "reminders", "--on", "2025-02-30", stdout=io.StringIO())

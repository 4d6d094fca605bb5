"""保存期間 of access and audit events (privacy.md §3: 7 years, configurable)."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from kokuho.audit.models import AuditEvent
from kokuho.audit.selectors import audit_retention_until


def _event(day: dt.date, hour: int = 12) -> AuditEvent:
    return AuditEvent(occurred_at=timezone.make_aware(dt.datetime.combine(day, dt.time(hour))))


def test_the_default_is_seven_years_from_the_local_day():
    assert audit_retention_until(event=_event(dt.date(2026, 4, 1))) == dt.date(2033, 4, 1)
    # 00:30 JST on 1 April is 31 March in UTC; the local day counts.
    early = _event(dt.date(2026, 4, 1), hour=0)
    assert audit_retention_until(event=early) == dt.date(2033, 4, 1)


def test_the_setting_changes_it(settings):
    settings.KOKUHO_AUDIT_RETENTION_YEARS = 10
    assert audit_retention_until(event=_event(dt.date(2026, 4, 1))) == dt.date(2036, 4, 1)


def test_a_leap_day_is_kept_until_the_first_of_march():
    assert audit_retention_until(event=_event(dt.date(2024, 2, 29))) == dt.date(2031, 3, 1)


def test_a_retention_below_one_year_is_refused(settings):
    settings.KOKUHO_AUDIT_RETENTION_YEARS = 0
    with pytest.raises(ImproperlyConfigured):
        audit_retention_until(event=_event(dt.date(2026, 4, 1)))

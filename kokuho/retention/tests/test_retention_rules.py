"""Retention periods by calendar years (保存期間の数え方) and the configured rules."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from kokuho.audit.models import AuditEvent
from kokuho.audit.selectors import audit_retention_until
from kokuho.retention.models import DataClass, RetentionRun
from kokuho.retention.rules import (
    accounts_closed_before,
    fiscal_years_ended_before,
    keep_from,
    retention_rules,
    years_after,
)
from kokuho.retention.services import RetentionError, RetentionErrorCode, retention_run

D = dt.date


@pytest.mark.parametrize(
    ("as_of", "years", "first_kept"),
    [
        (D(2026, 3, 1), 10, D(2016, 2, 29)),  # 29 Feb 2016 is kept through 1 Mar 2026
        (D(2026, 3, 2), 10, D(2016, 3, 2)),
        (D(2026, 2, 28), 10, D(2016, 2, 28)),
        (D(2023, 3, 1), 7, D(2016, 2, 29)),
        (D(2024, 2, 29), 4, D(2020, 2, 29)),  # leap to leap
        (D(2024, 2, 29), 5, D(2019, 3, 1)),  # as_of on 29 Feb: 28 Feb 2019 ended on the 28th
        (D(2026, 1, 1), 1, D(2025, 1, 1)),
    ],
)
def test_keep_from_is_the_first_reference_date_still_kept(as_of, years, first_kept):
    assert keep_from(as_of=as_of, years=years) == first_kept
    assert years_after(first_kept, years) >= as_of
    assert years_after(first_kept - dt.timedelta(days=1), years) < as_of


def test_it_agrees_with_the_audit_retention_day_by_day(settings):
    # For every day of a leap cycle: an event is past retention on as_of exactly when its
    # day is before keep_from — the rule audit_retention_until states.
    settings.KOKUHO_AUDIT_RETENTION_YEARS = 7
    as_of = D(2027, 2, 27)
    while as_of < D(2031, 3, 3):
        first_kept = keep_from(as_of=as_of, years=7)
        for day in (first_kept - dt.timedelta(days=1), first_kept):
            noon = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
            past = audit_retention_until(event=AuditEvent(occurred_at=noon)) < as_of
            assert past == (day < first_kept), (as_of, day)
        as_of += dt.timedelta(days=1)


def test_the_rule_names_carry_the_configured_periods(settings):
    settings.KOKUHO_RETENTION_RECORDS_YEARS = 30
    settings.KOKUHO_AUDIT_RETENTION_YEARS = 10
    rules = retention_rules()
    assert rules[DataClass.RECORDS].name == "records.person.30y_after_last_change"
    assert rules[DataClass.INTERFACE_LEDGER].name == "interfaces.ledger.30y_after_import"
    assert rules[DataClass.AUDIT].name == "audit.event.10y"
    assert rules[DataClass.MY_NUMBER].name == "vault.my_number.5y_after_loss"
    assert rules[DataClass.CLAIMS].name == "claims.receipt.5y_after_service_month"
    assert rules[DataClass.DOCUMENT_PRINTS].name == "documents.print_file.1y_after_print"
    # The dated ones (parameters under rules/parameters/retention/), as in force today.
    assert rules[DataClass.BENEFIT_DECISIONS].name == "benefits.decision.5y_after_fiscal_year"
    assert rules[DataClass.PAYMENTS].name == "payments.accounting.5y_after_closing"
    assert rules[DataClass.PAYEE_ACCOUNTS].name == "payments.payee_account.5y_after_superseded"
    assert list(rules) == [
        DataClass.MY_NUMBER,
        DataClass.RECORDS,
        DataClass.BENEFIT_DECISIONS,
        DataClass.CLAIMS,
        DataClass.PAYMENTS,
        DataClass.PAYEE_ACCOUNTS,
        DataClass.INTERFACE_RAW,
        DataClass.INTERFACE_UPLOADS,
        DataClass.INTERFACE_LEDGER,
        DataClass.DOCUMENT_PRINTS,
        DataClass.AUDIT,
    ]


@pytest.mark.parametrize(
    "setting",
    [
        "KOKUHO_RETENTION_MY_NUMBER_YEARS",
        "KOKUHO_RETENTION_RECORDS_YEARS",
        "KOKUHO_RETENTION_CLAIMS_YEARS",
        "KOKUHO_RETENTION_INTERFACE_YEARS",
        "KOKUHO_AUDIT_RETENTION_YEARS",
    ],
)
def test_a_period_below_one_year_is_refused(settings, setting):
    setattr(settings, setting, 0)
    with pytest.raises(ImproperlyConfigured):
        retention_rules()


@pytest.mark.django_db
def test_a_date_after_today_is_refused_before_anything_is_done():
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(RetentionError) as caught:
        retention_run(as_of=tomorrow)
    assert caught.value.code == RetentionErrorCode.FUTURE_DATE
    assert not RetentionRun.objects.exists()


@pytest.mark.parametrize(
    ("cutoff", "first_kept"),
    [
        (dt.date(2021, 3, 31), dt.date(2020, 4, 1)),  # FY2020 ends on the cutoff: kept
        (dt.date(2021, 4, 1), dt.date(2021, 4, 1)),  # FY2020 ended the day before: past
        (dt.date(2021, 12, 1), dt.date(2021, 4, 1)),
    ],
)
def test_fiscal_years_are_past_when_their_last_day_lies_before_the_cutoff(cutoff, first_kept):
    assert fiscal_years_ended_before(cutoff) == first_kept


@pytest.mark.parametrize(
    ("cutoff", "first_kept"),
    [
        (dt.date(2021, 5, 31), dt.date(2020, 4, 1)),  # FY2020 closes on the cutoff: kept
        (dt.date(2021, 6, 1), dt.date(2021, 4, 1)),  # closed on 5/31: FY2020 past
        (dt.date(2022, 4, 1), dt.date(2021, 4, 1)),  # FY2021 not closed before 2022-05-31
    ],
)
def test_accounts_are_past_when_their_year_closed_before_the_cutoff(cutoff, first_kept):
    assert accounts_closed_before(cutoff) == first_kept

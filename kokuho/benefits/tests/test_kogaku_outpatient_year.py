"""The 70–74 外来年間合算 (payments.md §3): cap year 2025-08 … 2026-07, 基準日 2026-07-31.

Under the bands in force then (一般: 外来 18,000 a month, 144,000 a year), twelve months of
20,000 outpatient co-payments leave 18,000 a month: 216,000, of which 72,000 is paid."""

import datetime as dt

import pytest

from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.kogaku.outpatient_year import (
    OutpatientYearError,
    kogaku_outpatient_year_awaiting,
    kogaku_outpatient_year_settle,
    year_months,
)
from kokuho.benefits.models import KogakuOutpatientYear
from kokuho.payments.models import AccountSource, HoldReason, Payment, PaymentStatus
from kokuho.payments.services import AccountInput, payee_account_record
from kokuho.testing import make_claim, make_insured

pytestmark = pytest.mark.django_db

AFTER = dt.date(2026, 8, 20)
MONTHS = year_months(2025)


def _outpatient(person, amount: int, months=MONTHS) -> None:
    for month in months:
        make_claim(person=person, service_month=month, setting=2, points=amount // 3, copay=amount)


def _account(person) -> None:
    payee_account_record(
        person=person,
        account=AccountInput("0001", "001", 1, "1234567", "きゅうふ たろう"),
        source=AccountSource.APPLICATION,
        valid_from=dt.date(2026, 8, 1),
        actor=None,
    )


def test_the_year_over_the_cap_is_paid_to_the_head_once_the_account_is_known():
    member = make_insured(birth_date=dt.date(1954, 3, 2))  # 72 on the 基準日, 一般
    _outpatient(member, 20000)
    first = kogaku_outpatient_year_settle(year=2025, actor=None, on=AFTER)
    assert (first.members, first.settled, first.total_benefit) == (1, 1, 72000)
    assert first.awaiting_account == 1  # no account on file: 申請待ち
    row = KogakuOutpatientYear.objects.get()
    assert (row.total, row.annual_limit, row.benefit, row.category) == (
        216000,
        144000,
        72000,
        "一般",
    )
    assert [m["counted"] for m in row.months] == [18000] * 12
    assert row.head_id == member.pk
    assert kogaku_outpatient_year_awaiting() == [row]
    payment = Payment.objects.get(source_type="kogaku_outpatient_year")
    assert (payment.source_id, payment.amount, payment.person_id) == (row.pk, 72000, member.pk)
    assert (payment.status, payment.hold_reason, payment.account) == (
        PaymentStatus.HELD,
        HoldReason.NO_ACCOUNT,
        None,
    )
    _account(member)  # the head's account, given at the counter: the payment is released
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.DUE and payment.account is not None
    assert kogaku_outpatient_year_awaiting() == []
    again = kogaku_outpatient_year_settle(year=2025, actor=None, on=AFTER)
    assert (again.settled, again.unchanged, again.awaiting_account) == (0, 1, 0)
    assert Payment.objects.filter(source_type="kogaku_outpatient_year").count() == 1
    assert AuditEvent.objects.filter(event_type=EventType.KOGAKU_OUTPATIENT_YEAR).count() == 2


def test_a_late_claim_settles_the_year_again_and_pays_the_difference():
    member = make_insured(birth_date=dt.date(1953, 9, 9))
    _account(member)
    _outpatient(member, 20000)
    kogaku_outpatient_year_settle(year=2025, actor=None, on=AFTER)
    # March: a 2,000 claim more still leaves the month at its 18,000 limit; a month below
    # the limit (a 10,000 month) is counted as it was borne.
    make_claim(person=member, service_month=dt.date(2026, 3, 1), setting=2, points=700, copay=2000)
    unchanged = kogaku_outpatient_year_settle(year=2025, actor=None, on=AFTER)
    assert unchanged.settled == 0
    other = make_insured(birth_date=dt.date(1955, 1, 20))
    _account(other)
    _outpatient(other, 10000)  # 120,000: under the cap
    summary = kogaku_outpatient_year_settle(year=2025, actor=None, on=AFTER)
    assert summary.settled == 0
    _outpatient(other, 8000, months=MONTHS[:6])  # six months now 18,000: 108,000 + 60,000
    summary = kogaku_outpatient_year_settle(year=2025, actor=None, on=AFTER)
    assert (summary.settled, summary.total_benefit) == (1, 24000)
    assert Payment.objects.get(person=other).amount == 24000


def test_months_before_seventy_and_members_under_seventy_do_not_count():
    turning = make_insured(birth_date=dt.date(1956, 1, 15))  # 70 from 2026-02
    young = make_insured(birth_date=dt.date(1960, 5, 5))
    _outpatient(turning, 20000)
    _outpatient(young, 20000)
    summary = kogaku_outpatient_year_settle(year=2025, actor=None, on=AFTER)
    assert summary.members == 1 and summary.settled == 0  # 6 months × 18,000 = 108,000
    assert not KogakuOutpatientYear.objects.exists()


def test_the_year_cannot_be_settled_before_its_reference_day():
    with pytest.raises(OutpatientYearError, match="基準日"):
        kogaku_outpatient_year_settle(year=2025, actor=None, on=dt.date(2026, 7, 31))

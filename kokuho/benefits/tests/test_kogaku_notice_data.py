"""The notices' data from the models: addressee, 記号・番号, persons, 計算明細, 申請期限,
numbers — and printing a run's invitations marks them once."""

import datetime as dt

import pytest

from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.kogaku.notice_data import (
    decision_notice,
    invitation_notice,
    invitations_unprinted,
    kogaku_invitations_print,
    notice_apply_by,
)
from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.kogaku.workflow import AccountIn, kogaku_application_register, kogaku_decide
from kokuho.benefits.models import KogakuInvitation
from kokuho.testing import make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

JULY = dt.date(2026, 7, 1)
ACCOUNT = AccountIn("0001", "001", 1, "1234567", "キュウフ タロウ")


@pytest.fixture
def a():
    person = make_insured(birth_date=dt.date(1970, 1, 10))
    make_claim(person=person, service_month=JULY, setting=1, points=100000, copay=300000)
    kogaku_run_execute(run_id=kogaku_run_create(month=JULY, actor=None).pk)
    return person


@pytest.mark.parametrize(
    ("month", "last_day"),
    [
        (dt.date(2026, 7, 1), dt.date(2028, 7, 31)),
        (dt.date(2026, 12, 1), dt.date(2028, 12, 31)),
        (dt.date(2023, 1, 1), dt.date(2025, 1, 31)),
        (dt.date(2026, 1, 1), dt.date(2028, 1, 31)),
        (dt.date(2027, 12, 1), dt.date(2029, 12, 31)),
    ],
)
def test_the_application_deadline_is_two_years_from_the_first_of_the_next_month(month, last_day):
    assert notice_apply_by(month) == last_day


def test_an_invitation_notice_names_the_head_and_carries_the_stored_explanation(a):
    invitation = KogakuInvitation.objects.get()
    notice = invitation_notice(invitation, issued_on=dt.date(2026, 8, 20))
    number = a.household.nhi_number
    assert notice.notice_no == f"KS202607-{invitation.pk:06d}"
    assert (notice.addressee.name, notice.addressee.postal_code) == (a.name, "799-0001")
    assert notice.addressee.address == a.address
    assert (notice.insured_symbol, notice.insured_number) == (number.symbol, number.number)
    assert (notice.service_month, notice.amount, notice.apply_by) == (
        JULY,
        45820,
        dt.date(2028, 7, 31),
    )
    assert notice.first_time
    assert [(p.name, p.counted_copay, p.benefit) for p in notice.persons] == [
        (a.name, 300000, 45820)
    ]
    assert notice.steps[-1] == "支給額 45,820円"


def test_a_decision_notice_takes_the_decided_steps_and_the_masked_account(a):
    staff = make_staff()
    application = kogaku_application_register(
        household=a.household, month=JULY, applicant=a, received_on=dt.date(2026, 9, 1),
        account=ACCOUNT, simplify=False, actor=staff,
    )  # fmt: skip
    decision = kogaku_decide(application=application, actor=staff, decided_on=dt.date(2026, 9, 5))
    notice = decision_notice(decision, issued_on=dt.date(2026, 9, 6))
    assert notice.notice_no == f"K202607-{decision.pk:06d}"
    assert (notice.amount, notice.decided_on, notice.kind_label) == (
        45820,
        dt.date(2026, 9, 5),
        "申請による決定",
    )
    assert notice.payee == decision.masked_account()
    assert "1234567" not in notice.payee
    assert notice.steps == tuple(decision.steps)
    assert notice.payment_due_on is None and not notice.provisional
    assert sum(p.benefit for p in notice.persons) == notice.amount


def test_printing_marks_the_invitations_once_and_skips_households_that_applied(a):
    first = KogakuInvitation.objects.get().result.run
    b = make_insured(birth_date=dt.date(1953, 3, 2))
    make_claim(person=b, service_month=JULY, setting=2, points=15000, copay=30000)
    second = kogaku_run_execute(run_id=kogaku_run_create(month=JULY, actor=None).pk)
    # a was invited by the first run, b by the second; b applies before anything is printed.
    staff = make_staff()
    kogaku_application_register(
        household=b.household, month=JULY, applicant=b, received_on=dt.date(2026, 9, 1),
        account=ACCOUNT, simplify=False, actor=staff,
    )  # fmt: skip
    assert not invitations_unprinted(run=second).exists()
    assert kogaku_invitations_print(run=second, actor=staff) is None
    assert [i.household_id for i in invitations_unprinted(run=first)] == [a.household_id]
    printed = kogaku_invitations_print(run=first, actor=staff, on=dt.date(2026, 8, 20))
    assert printed is not None
    assert (printed.count, printed.remaining) == (1, 0)
    assert printed.content.startswith(b"%PDF-")
    assert KogakuInvitation.objects.get(household=a.household).printed_at is not None
    assert KogakuInvitation.objects.get(household=b.household).printed_at is None
    event = AuditEvent.objects.filter(event_type=EventType.HOUSEHOLD_VIEWED).get()
    assert event.extra["households_shown"] == [a.household.household_no]
    assert kogaku_invitations_print(run=first, actor=staff) is None

"""高額療養費 decisions reach the bank: each decision is one 支払予定 to the head's account,
the payment run sets its 支払日, and a payment recorded by hand is never paid again."""

import datetime as dt

import pytest

from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.kogaku.workflow import (
    PAYMENT_SOURCE,
    AccountIn,
    KogakuError,
    kogaku_application_register,
    kogaku_decide,
    kogaku_paid_record,
)
from kokuho.benefits.models import KogakuDecision
from kokuho.payments.models import Benefit, Payment, PaymentStatus
from kokuho.payments.run import PaymentRunError, payment_run
from kokuho.testing import make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

JULY = dt.date(2026, 7, 1)
ACCOUNT = AccountIn("0001", "001", 1, "1234567", "きゅうふ たろう")


@pytest.fixture(autouse=True)
def _payment_dir(tmp_path, settings):
    settings.KOKUHO_PAYMENT_DIR = tmp_path


@pytest.fixture
def decided():
    person = make_insured(birth_date=dt.date(1970, 1, 10))
    make_claim(person=person, service_month=JULY, setting=1, points=100000, copay=300000)
    kogaku_run_execute(run_id=kogaku_run_create(month=JULY, actor=None).pk)
    staff = make_staff()
    application = kogaku_application_register(
        household=person.household,
        month=JULY,
        applicant=person,
        received_on=dt.date(2026, 11, 2),
        account=ACCOUNT,
        simplify=False,
        actor=staff,
    )
    return kogaku_decide(application=application, actor=staff, decided_on=dt.date(2026, 11, 4))


def test_a_decision_is_one_payment_to_the_heads_account(decided):
    payment = Payment.objects.get(source_type=PAYMENT_SOURCE, source_id=decided.pk)
    assert (payment.benefit, payment.amount, payment.status) == (
        Benefit.KOGAKU,
        decided.amount,
        PaymentStatus.DUE,
    )
    assert payment.budget_item.endswith("高額療養費")
    assert payment.account.holder_zengin == "ｷﾕｳﾌ ﾀﾛｳ"
    assert payment.person_id == decided.application.applicant_id


def test_the_run_sets_the_decisions_pay_date(decided):
    run = payment_run(
        pay_date=dt.date(2026, 11, 10), actor=None, sent_at=dt.datetime(2026, 11, 5, 9)
    ).run
    decided.refresh_from_db()
    assert decided.paid_on == dt.date(2026, 11, 10)
    assert (run.count, run.total) == (1, decided.amount)


def test_a_payment_recorded_by_hand_is_never_in_a_run(decided):
    kogaku_paid_record(decisions=[decided], paid_on=dt.date(2026, 11, 6), actor=None)
    assert Payment.objects.get().status == PaymentStatus.SETTLED
    with pytest.raises(PaymentRunError):
        payment_run(pay_date=dt.date(2026, 11, 10), actor=None, sent_at=dt.datetime(2026, 11, 5, 9))
    assert KogakuDecision.objects.get().paid_on == dt.date(2026, 11, 6)


def test_an_unknown_branch_is_refused_at_the_application():
    person = make_insured(birth_date=dt.date(1970, 1, 10))
    with pytest.raises(KogakuError, match="店"):
        kogaku_application_register(
            household=person.household,
            month=JULY,
            applicant=person,
            received_on=dt.date(2026, 11, 2),
            account=AccountIn("0001", "999", 1, "1234567", "キュウフ タロウ"),
            simplify=False,
            actor=make_staff(),
        )

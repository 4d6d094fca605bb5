"""Payees that are organisations (施術所, 国保連合会, 医療機関): their accounts versioned like a
person's, a payment to exactly one of person or organisation, payments that wait for a
first account, and the run, register, 支払通知書 and 振込不能 for them."""

import datetime as dt
from pathlib import Path

import pytest
from django.db import IntegrityError, transaction

from kokuho.payments.models import (
    AccountSource,
    Benefit,
    HoldReason,
    OrganisationKind,
    PayeeAccount,
    Payment,
    PaymentStatus,
)
from kokuho.payments.printing import notices_data, payment_run_print
from kokuho.payments.returns import ReturnReason, payment_return_record
from kokuho.payments.run import payment_run
from kokuho.payments.services import (
    AccountError,
    AccountInput,
    organisation_account_record,
    payee_account_record,
    payee_organisation_record,
    payment_account_correct,
    payment_schedule,
)
from kokuho.payments.tests import zengin_reader
from kokuho.testing import make_person

pytestmark = pytest.mark.django_db

PAY = dt.date(2026, 12, 18)
SENT = dt.datetime(2026, 12, 14, 10, 0)
SEKKOTSU = AccountInput("0001", "001", 1, "1111111", "ミカンセツコツイン")


@pytest.fixture(autouse=True)
def _payment_dir(tmp_path, settings):
    settings.KOKUHO_PAYMENT_DIR = tmp_path / "payments"


@pytest.fixture
def clinic():
    return payee_organisation_record(
        kind=OrganisationKind.PRACTITIONER,
        code="1234567",
        name="みかん接骨院",
        name_kana="ミカンセツコツイン",
        postal_code="799-0001",
        address="みかん市本町2-2",
        actor=None,
    )


_ids = iter(range(1, 10**6))


def _due(amount, *, account=None, **payee):
    return payment_schedule(
        benefit=Benefit.JUSEI,
        source_type="test_batch",
        source_id=next(_ids),
        account=account,
        amount=amount,
        decided_on=dt.date(2026, 12, 1),
        **payee,
    )


def _record(organisation, account=SEKKOTSU):
    return organisation_account_record(
        organisation=organisation, account=account, valid_from=dt.date(2026, 4, 1), actor=None
    )


def test_an_organisations_account_is_versioned_and_checked_against_zengin_code(clinic):
    first = _record(clinic)
    assert (first.version, first.bank_kana, first.holder_zengin) == (1, "ﾐｽﾞﾎ", "ﾐｶﾝｾﾂｺﾂｲﾝ")
    assert _record(clinic) == first  # the same account again changes nothing
    second = _record(clinic, AccountInput("0001", "004", 1, "2222222", "ミカンセツコツイン"))
    first.refresh_from_db()
    assert second.version == 2 and first.superseded_at is not None
    with pytest.raises(AccountError) as refused:
        _record(clinic, AccountInput("0001", "999", 1, "1", "ミカン"))
    assert refused.value.field == "branch_code"


def test_the_same_code_again_updates_the_name_and_the_code_is_checked(clinic):
    again = payee_organisation_record(
        kind=OrganisationKind.PRACTITIONER, code="1234567", name="みかん整骨院", actor=None
    )
    assert again.pk == clinic.pk and again.name == "みかん整骨院"
    with pytest.raises(AccountError, match="英数字"):
        payee_organisation_record(
            kind=OrganisationKind.PRACTITIONER, code="12-34", name="x", actor=None
        )


def test_an_account_and_a_payment_belong_to_exactly_one_payee(clinic):
    account = _record(clinic)
    person = make_person()
    with pytest.raises(ValueError, match="受給者のもの"):
        _due(1000, account=account, person=person)
    with pytest.raises(ValueError, match="どちらか一方"):
        _due(1000)
    with transaction.atomic(), pytest.raises(IntegrityError):
        PayeeAccount.objects.filter(pk=account.pk).update(person=person)
    payment = _due(1000, account=account)
    with transaction.atomic(), pytest.raises(IntegrityError):
        Payment.objects.filter(pk=payment.pk).update(person=person)
    with transaction.atomic(), pytest.raises(IntegrityError):
        Payment.objects.filter(pk=payment.pk).update(account=None)  # due without an account


def test_a_payment_waits_for_the_first_account_then_is_due(clinic):
    waiting = _due(5000, organisation=clinic)
    assert (waiting.status, waiting.hold_reason) == (PaymentStatus.HELD, HoldReason.NO_ACCOUNT)
    account = _record(clinic)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.account) == (PaymentStatus.DUE, account)


def test_a_persons_payment_waits_the_same_way():
    person = make_person()
    waiting = _due(3000, person=person)
    assert waiting.hold_reason == HoldReason.NO_ACCOUNT
    kept = payee_account_record(
        person=person,
        account=AccountInput("0001", "001", 1, "3333333", "ヤマダ タロウ"),
        source=AccountSource.APPLICATION,
        valid_from=dt.date(2026, 4, 1),
        actor=None,
    )
    waiting.refresh_from_db()
    assert (waiting.status, waiting.account) == (PaymentStatus.DUE, kept)


def test_a_held_organisation_payment_is_corrected_on_the_organisations_account(clinic):
    waiting = _due(5000, organisation=clinic)
    kept, released = payment_account_correct(payment=waiting, account=SEKKOTSU, actor=None)
    assert kept.organisation == clinic and released == 1


def test_the_run_register_and_notice_carry_an_organisation_payee(clinic):
    account = _record(clinic)
    _due(12600, account=account)
    person = make_person()
    _due(
        3000,
        account=payee_account_record(
            person=person,
            account=AccountInput("0001", "004", 1, "2345678", "ヤマダ タロウ"),
            source=AccountSource.APPLICATION,
            valid_from=dt.date(2026, 4, 1),
            actor=None,
        ),
    )
    run = payment_run(pay_date=PAY, actor=None, sent_at=SENT).run
    (entry,) = [f for f in run.files if f["name"].startswith("zengin-")]
    parsed = zengin_reader.read(Path(entry["path"]).read_bytes())
    assert sorted((r.name, r.amount, r.new_code) for r in parsed.data) == [
        ("ﾐｶﾝｾﾂｺﾂｲﾝ", 12600, 1),
        ("ﾔﾏﾀﾞ ﾀﾛｳ", 3000, 1),
    ]
    register = Path(next(f["path"] for f in run.files if f["name"] == "register.csv"))
    text = register.read_text(encoding="utf-8-sig")
    assert "施術所:1234567" in text and person.atena_no in text
    notices = {n.name: n for n in notices_data(run, list(run.transfers.all()))}
    notice = notices["みかん接骨院"]
    assert (notice.honorific, notice.address, notice.postal_code) == (
        "御中",
        "みかん市本町2-2",
        "799-0001",
    )
    assert notices[person.name].honorific == "様"
    printed = payment_run_print(run=run, actor=None)
    assert all(Path(p["path"]).read_bytes().startswith(b"%PDF") for p in printed)
    # A second organisation payment to the same account is not 新規 any more.
    _due(100, account=account)
    second = payment_run(pay_date=dt.date(2026, 12, 25), actor=None, sent_at=SENT).run
    (entry,) = [f for f in second.files if f["name"].startswith("zengin-")]
    assert zengin_reader.read(Path(entry["path"]).read_bytes()).data[0].new_code == 0


def test_a_returned_organisation_transfer_is_a_work_item(clinic):
    payment = _due(12600, account=_record(clinic))
    run = payment_run(pay_date=PAY, actor=None, sent_at=SENT).run
    line = payment_return_record(
        run=run, customer_code=f"{payment.pk:010d}", reason=ReturnReason.CLOSED, actor=None
    )
    payment.refresh_from_db()
    assert (line.status, payment.status) == ("returned", PaymentStatus.RETURNED)

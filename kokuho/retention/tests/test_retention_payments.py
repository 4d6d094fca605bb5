"""Payments and payee accounts in the retention job: a paid payment of FY2020 (出納閉鎖
2021-05-31) is kept through 2026-05-31 and erased on 2026-06-01 with its transfers, its run
and the run's files (the export register keeps its entry); a payment paid again in a newer
run is kept; an open payment is never erased; an account version goes once superseded (or
its person left) and nothing kept refers to it; a pending 開示等請求 holds; the plan counts
what the run erases; a second run erases nothing; a changed period applies from its date."""

import shutil
from pathlib import Path

import pytest

from kokuho.accounts.permissions import Role
from kokuho.interfaces.models import ExportKind, ExportRecord
from kokuho.payments.models import (
    OrganisationKind,
    PayeeAccount,
    Payment,
    PaymentRun,
    PaymentStatus,
    PaymentTransfer,
)
from kokuho.payments.returns import ReturnReason, payment_reissue, payment_return_record
from kokuho.payments.services import (
    AccountInput,
    organisation_account_record,
    payee_organisation_record,
    payment_schedule,
)
from kokuho.retention import rules
from kokuho.retention.models import DataClass, DeletionRecord
from kokuho.retention.selectors import retention_plan
from kokuho.retention.services import retention_run
from kokuho.retention.tests import benefit_builders as b
from kokuho.retention.tests.builders import at
from kokuho.rules.params import PARAMETER_DIR, load_parameters
from kokuho.subject_requests.models import RequesterKind, RequestKind
from kokuho.subject_requests.services import subject_request_receive
from kokuho.testing import make_person, make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

D = b.D
LAST_KEPT = D(2026, 5, 31)
ERASED_ON = D(2026, 6, 1)
PAY_FY2020 = D(2020, 12, 18)  # a Friday
PAY_FY2021 = D(2021, 4, 16)  # a Friday
PAYMENTS, ACCOUNTS = DataClass.PAYMENTS, DataClass.PAYEE_ACCOUNTS


@pytest.fixture(autouse=True)
def _payment_dir(tmp_path, settings):
    settings.KOKUHO_PAYMENT_DIR = tmp_path / "payments"


def _paid(person, *, recorded=D(2020, 5, 1), decided=D(2020, 12, 1), account=None):
    account = account or b.account(person, recorded=recorded)
    return b.payment_due(person=person, account=account, decided=decided)


def test_a_paid_payment_goes_with_its_run_and_files_the_day_after_the_period():
    person = make_person()
    payment = _paid(person)
    run = b.run_on(PAY_FY2020)
    paths = b.run_paths(run)
    assert paths and all(p.is_file() for p in paths)

    kept = retention_run(as_of=LAST_KEPT)
    assert kept.counts[PAYMENTS] == 0
    assert Payment.objects.filter(pk=payment.pk).exists()

    erased = retention_run(as_of=ERASED_ON)
    assert erased.counts[PAYMENTS] == 1
    assert not Payment.objects.filter(pk=payment.pk).exists()
    assert not PaymentTransfer.objects.exists()
    assert not PaymentRun.objects.filter(pk=run.pk).exists()
    assert not any(p.exists() for p in paths)
    assert not paths[0].parent.exists()
    # The register keeps the record that the file left for the bank.
    entry = ExportRecord.objects.get(kind=ExportKind.PAYMENT_TRANSFER)
    assert entry.reference == f"payment-run:{run.pk}"
    records = DeletionRecord.objects.filter(run=erased, data_class=PAYMENTS)
    assert sum(r.count for r in records) == 1
    assert sum(r.tables.get("payments.PaymentRun", 0) for r in records) == 1
    files = sum(r.tables.get("payment run files (KOKUHO_PAYMENT_DIR)", 0) for r in records)
    assert files == len(paths)
    assert {r.rule for r in records} == {"payments.accounting.5y_after_closing"}
    assert {r.cutoff for r in records} == {D(2021, 6, 1)}


def test_a_payment_paid_again_in_a_newer_run_is_kept_with_the_old_run():
    once, again = make_person(), make_person(kana="キタガワ ハナコ")
    paid_once = _paid(once)
    returned = _paid(again)
    first = b.run_on(PAY_FY2020)
    line = PaymentTransfer.objects.get(payment=returned)
    payment_return_record(
        run=first, customer_code=line.customer_code, reason=ReturnReason.CLOSED, actor=None
    )
    payment_reissue(payment=Payment.objects.get(pk=returned.pk))
    b.run_on(PAY_FY2021)

    run = retention_run(as_of=ERASED_ON)

    assert run.counts[PAYMENTS] == 1
    assert not Payment.objects.filter(pk=paid_once.pk).exists()
    assert PaymentTransfer.objects.filter(payment=returned).count() == 2
    # The old run still carries the returned line: it stays, and its files with it.
    assert PaymentRun.objects.filter(pk=first.pk).exists()
    assert all(p.is_file() for p in b.run_paths(first))


def test_a_superseded_account_a_kept_payment_refers_to_is_kept():
    """Superseded in FY2020, but a payment of FY2021 was made to it: the version stays."""
    person = make_person()
    old = b.account(person, recorded=D(2020, 5, 1))
    b.account(person, recorded=D(2020, 11, 2), number="7654321")
    _paid(person, account=old, decided=D(2021, 4, 1))
    b.run_on(PAY_FY2021)

    run = retention_run(as_of=ERASED_ON)

    assert (run.counts[PAYMENTS], run.counts[ACCOUNTS]) == (0, 0)
    assert PayeeAccount.objects.filter(pk=old.pk).exists()


def test_an_open_payment_is_never_erased():
    person = make_person()
    due = _paid(person, decided=D(2015, 6, 1))
    assert retention_run(as_of=ERASED_ON).counts[PAYMENTS] == 0
    assert Payment.objects.get(pk=due.pk).status == PaymentStatus.DUE


def test_a_superseded_account_goes_once_no_kept_payment_refers_to_it():
    """v1 paid in FY2020 and superseded in FY2020: erased (in the same run as its payment);
    v1 of another payee superseded in FY2021: kept; current versions of residents: kept."""
    person, other = make_person(), make_person()
    old = b.account(person, recorded=D(2020, 5, 1))
    _paid(person, account=old, decided=D(2020, 6, 1))
    other_old = b.account(other, recorded=D(2020, 5, 1))
    _paid(other, account=other_old, decided=D(2020, 6, 1))
    b.run_on(D(2020, 6, 19))
    current = b.account(person, recorded=D(2020, 11, 2), number="7654321")
    other_current = b.account(other, recorded=D(2021, 4, 5), number="7654321")

    assert retention_run(as_of=LAST_KEPT).counts[ACCOUNTS] == 0
    plan = retention_plan(as_of=ERASED_ON)
    run = retention_run(as_of=ERASED_ON)

    assert plan.count(ACCOUNTS) == run.counts[ACCOUNTS] == 1
    assert plan.count(PAYMENTS) == run.counts[PAYMENTS] == 2
    assert set(PayeeAccount.objects.values_list("pk", flat=True)) == {
        current.pk,
        other_old.pk,
        other_current.pk,
    }
    record = DeletionRecord.objects.get(run=run, data_class=ACCOUNTS)
    assert (record.count, record.tables) == (1, {"payments.PayeeAccount": 1})
    assert record.rule == "payments.payee_account.5y_after_superseded"


def test_the_current_account_of_a_person_who_left_goes_after_the_period():
    left = make_person(resident_until=D(2020, 10, 1))
    stays = make_person()
    gone = b.account(left, recorded=D(2020, 5, 1))
    kept = b.account(stays, recorded=D(2020, 5, 1))
    assert retention_run(as_of=LAST_KEPT).counts[ACCOUNTS] == 0
    assert retention_run(as_of=ERASED_ON).counts[ACCOUNTS] == 1
    assert list(PayeeAccount.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not PayeeAccount.objects.filter(pk=gone.pk).exists()


def test_an_account_named_by_a_kept_application_is_kept(settings):
    staff = make_staff(role=Role.BENEFITS)
    person = make_person(resident_until=D(2020, 10, 1))
    named = b.account(person, recorded=D(2020, 5, 1))
    b.benefit_application(
        person=person, staff=staff, received=D(2020, 7, 1), decided=[D(2021, 4, 20)], account=named
    )
    other = make_person(resident_until=D(2020, 10, 1))
    freed = b.account(other, recorded=D(2020, 5, 1))
    b.benefit_application(
        person=other, staff=staff, received=D(2020, 7, 1), decided=[D(2020, 8, 1)], account=freed
    )

    plan = retention_plan(as_of=ERASED_ON)
    run = retention_run(as_of=ERASED_ON)

    assert plan.count(ACCOUNTS) == run.counts[ACCOUNTS] == 1
    assert list(PayeeAccount.objects.values_list("pk", flat=True)) == [named.pk]


def test_an_organisations_payment_and_superseded_account_go_like_a_persons():
    clinic = payee_organisation_record(
        kind=OrganisationKind.PRACTITIONER, code="1234567", name="ミカン接骨院", actor=None
    )
    old = organisation_account_record(
        organisation=clinic,
        account=AccountInput("0001", "001", 1, "1111111", "ミカンセッコツイン"),
        valid_from=D(2020, 5, 1),
        actor=None,
    )
    PayeeAccount.objects.filter(pk=old.pk).update(recorded_at=at(D(2020, 5, 1)))
    payment = payment_schedule(
        benefit="jusei",
        source_type="test_decision",
        source_id=900001,
        organisation=clinic,
        account=old,
        amount=12000,
        decided_on=D(2020, 6, 1),
    )
    Payment.objects.filter(pk=payment.pk).update(created_at=at(D(2020, 6, 1)))
    b.run_on(D(2020, 6, 19))
    new = organisation_account_record(
        organisation=clinic,
        account=AccountInput("0001", "001", 1, "2222222", "ミカンセッコツイン"),
        valid_from=D(2020, 11, 2),
        actor=None,
    )
    PayeeAccount.objects.filter(pk=new.pk).update(recorded_at=at(D(2020, 11, 2)))
    PayeeAccount.objects.filter(pk=old.pk).update(superseded_at=at(D(2020, 11, 2)))

    run = retention_run(as_of=ERASED_ON)

    assert (run.counts[PAYMENTS], run.counts[ACCOUNTS]) == (1, 1)
    assert list(PayeeAccount.objects.values_list("pk", flat=True)) == [new.pk]


def test_a_pending_disclosure_request_holds_the_payees_payments_and_accounts():
    person = make_person(resident_until=D(2020, 10, 1))
    payment = _paid(person)
    run = b.run_on(PAY_FY2020)
    subject_request_receive(
        kind=RequestKind.DISCLOSURE,
        atena_no=person.atena_no,
        received_on=D(2026, 5, 20),
        requester=RequesterKind.SELF,
        identity_documents="マイナンバーカード",
        details="国民健康保険に関して保有する自己の情報の全部",
        actor=make_staff(role=Role.ELIGIBILITY),
    )

    erased = retention_run(as_of=ERASED_ON)

    assert (erased.counts[PAYMENTS], erased.counts[ACCOUNTS]) == (0, 0)
    assert Payment.objects.filter(pk=payment.pk).exists()
    assert PayeeAccount.objects.filter(person=person).exists()
    assert all(p.is_file() for p in b.run_paths(run))


def test_the_plan_counts_what_the_run_erases_in_chunks_and_a_second_run_erases_nothing():
    persons = [make_person() for _ in range(3)]
    for person in persons:
        _paid(person)
    b.run_on(PAY_FY2020)
    for person in persons[:2]:
        b.account(person, recorded=D(2021, 1, 8), number="7654321")

    plan = retention_plan(as_of=ERASED_ON)
    run = retention_run(as_of=ERASED_ON, chunk=1)

    assert plan.count(PAYMENTS) == run.counts[PAYMENTS] == 3
    assert plan.count(ACCOUNTS) == run.counts[ACCOUNTS] == 2
    counts = DeletionRecord.objects.filter(run=run, data_class=PAYMENTS).values_list(
        "count", flat=True
    )
    assert sorted(counts) == [0, 1, 1, 1]  # a payment per chunk, then the run
    again = retention_run(as_of=ERASED_ON)
    assert (again.counts[PAYMENTS], again.counts[ACCOUNTS]) == (0, 0)
    assert not DeletionRecord.objects.filter(run=again, data_class__in=[PAYMENTS, ACCOUNTS])
    assert PayeeAccount.objects.count() == 3


def _parameters_with(tmp_path: Path, name: str, values: str):
    root = tmp_path / "parameters"
    shutil.copytree(PARAMETER_DIR, root)
    path = root / "retention" / f"{name}.yaml"
    text = path.read_text(encoding="utf-8").split("values:")[0]
    path.write_text(text + "values:\n" + values, encoding="utf-8")
    return load_parameters(root)


def test_a_longer_accounting_period_applies_from_the_date_of_its_value(tmp_path, monkeypatch):
    changed = _parameters_with(
        tmp_path,
        "accounting_years",
        "  1947-05-03: {value: 5, reference: 試験}\n  2026-07-01: {value: 6, reference: 試験}\n",
    )
    monkeypatch.setattr(rules, "parameters", lambda: changed)
    _paid(make_person())
    b.run_on(PAY_FY2020)

    assert retention_plan(as_of=D(2026, 6, 30)).count(PAYMENTS) == 1
    assert retention_plan(as_of=D(2026, 7, 1)).count(PAYMENTS) == 0
    assert retention_run(as_of=D(2026, 7, 1)).counts[PAYMENTS] == 0
    assert retention_run(as_of=D(2026, 6, 30)).counts[PAYMENTS] == 1

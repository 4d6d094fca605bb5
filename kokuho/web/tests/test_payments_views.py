"""支払処理 screens: the runs with their totals and files, the held and returned payments, and
downloading only a file the run lists — for 給付担当 only."""

import datetime as dt
import itertools

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.payments.models import AccountSource, Benefit, PaymentRun, PaymentStatus
from kokuho.payments.run import payment_run
from kokuho.payments.services import AccountInput, payee_account_record, payment_schedule
from kokuho.testing import login_verified, make_person, make_staff

pytestmark = pytest.mark.django_db

PAY = dt.date(2026, 12, 18)  # a Friday; sent on Monday 2026-12-14 (2 lead days)
SENT = dt.datetime(2026, 12, 14, 10, 0)
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _payment_dir(tmp_path, settings):
    settings.KOKUHO_PAYMENT_DIR = tmp_path / "payments"


@pytest.fixture
def clerk(client):
    staff = make_staff(role=Role.BENEFITS)
    login_verified(client, staff)
    return staff


def _due(person, amount, *, holder="ヤマダ タロウ", benefit=Benefit.SOSAI):
    account = payee_account_record(
        person=person,
        account=AccountInput("0001", "001", 1, "1234567", holder),
        source=AccountSource.APPLICATION,
        valid_from=dt.date(2026, 12, 1),
        actor=None,
    )
    return payment_schedule(
        benefit=benefit,
        source_type="test_decision",
        source_id=next(_ids),
        person=person,
        account=account,
        amount=amount,
        decided_on=dt.date(2026, 12, 1),
    )


@pytest.fixture
def run():
    _due(make_person(atena_no="7100000001"), 30000)
    _due(make_person(atena_no="7100000002", name="佐藤 花子"), 7000, benefit=Benefit.RYOYOHI)
    return payment_run(pay_date=PAY, actor=None, sent_at=SENT).run


@pytest.fixture
def held():
    return _due(
        make_person(atena_no="7100000003", name="佐々木 花子"), 50000, holder="サヽキ ハナコ"
    )


def test_the_runs_page_lists_each_run_with_totals_files_and_work_item_counts(
    client, clerk, run, held
):
    body = client.get(reverse("payment_runs")).content.decode()
    assert "令和8年12月18日" in body and "作成済み" in body
    assert "2 件" in body and "37,000 円" in body
    assert "葬祭費 1 件 30,000 円" in body and "療養費 1 件 7,000 円" in body
    for entry in run.files:
        assert reverse("payment_run_file", args=[run.pk, entry["name"]]) in body
    assert "保留（要対応） 1 件" in body and "振込不能 0 件" in body
    assert reverse("payments_held") + "?status=held" in body


def test_held_payments_show_who_what_and_why(client, clerk, held):
    body = client.get(reverse("payments_held")).content.decode()
    assert "佐々木 花子" in body and "7100000003" in body
    assert "葬祭費" in body and "50,000 円" in body
    assert "口座名義を全銀の文字で書けない" in body and "ヽ" in body
    shown = AuditEvent.objects.filter(event_type=EventType.HOUSEHOLD_VIEWED).last()
    assert shown.extra["households_shown"] == [held.person.household.household_no]
    assert (
        "佐々木" not in client.get(reverse("payments_held") + "?status=returned").content.decode()
    )


def test_a_listed_file_downloads_as_an_attachment_that_is_not_cached(client, clerk, run):
    response = client.get(reverse("payment_run_file", args=[run.pk, "register.csv"]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert "register.csv" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    content = b"".join(response.streaming_content)
    assert "受給者宛名番号".encode() in content and b"7100000001" in content
    zengin = next(e["name"] for e in run.files if e["name"].startswith("zengin-"))
    response = client.get(reverse("payment_run_file", args=[run.pk, zengin]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize("name", ["other.txt", "..%2Fregister.csv", ".register.csv.tmp"])
def test_a_name_the_run_does_not_list_is_refused(client, clerk, run, name):
    url = reverse("payment_run_file", args=[run.pk, "x"])[: -len("x")] + name
    assert client.get(url).status_code == 404


def test_a_file_of_another_run_or_no_run_is_refused(client, clerk, run):
    assert (
        client.get(reverse("payment_run_file", args=[run.pk + 1, "register.csv"])).status_code
        == 404
    )
    assert PaymentRun.objects.count() == 1


@pytest.mark.parametrize("role", [Role.COUNTER, Role.ELIGIBILITY, Role.ADMINISTRATOR])
def test_other_roles_are_refused_and_see_no_names(client, run, held, role):
    login_verified(client, make_staff(role=role))
    for url in (
        reverse("payment_runs"),
        reverse("payments_held"),
        reverse("payment_run_file", args=[run.pk, "register.csv"]),
    ):
        response = client.get(url)
        assert response.status_code == 403, (role, url)
        assert "佐々木".encode() not in response.content
    assert reverse("payment_runs") not in client.get(reverse("search")).content.decode()
    assert held.status == PaymentStatus.HELD


def test_a_held_payment_is_released_by_correcting_its_account_after_seeing_the_name(client, clerk):
    payment = _due(make_person(), 4000, holder="ア" * 31)
    assert payment.status == PaymentStatus.HELD
    url = reverse("payment_account_correct", args=[payment.pk])
    assert client.get(url).status_code == 200
    typed = {
        "bank_code": "0001",
        "branch_code": "004",
        "account_type": "1",
        "account_number": "7654321",
        "holder_kana": "やまだ たろう",
    }
    confirm = client.post(url, typed | {"action": "confirm"})
    assert "ﾔﾏﾀﾞ ﾀﾛｳ" in confirm.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.HELD  # nothing kept on 確認
    saved = client.post(url, typed | {"action": "save"})
    assert saved.status_code == 302
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.DUE and payment.account.branch_code == "004"


def test_a_bad_branch_is_shown_beside_its_field_and_nothing_changes(client, clerk):
    payment = _due(make_person(), 4000, holder="ア" * 31)
    url = reverse("payment_account_correct", args=[payment.pk])
    typed = {"bank_code": "0001", "branch_code": "999", "account_type": "1"}
    response = client.post(
        url, typed | {"account_number": "1", "holder_kana": "ヤマダ", "action": "save"}
    )
    assert response.status_code == 200 and "branch_code-error" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.HELD


def test_a_returned_payment_can_be_reissued_to_the_same_account(client, clerk, run):
    from kokuho.payments.returns import ReturnReason, payment_return_record

    line = run.transfers.first()
    payment_return_record(
        run=run, customer_code=line.customer_code, reason=ReturnReason.OTHER, actor=None
    )
    response = client.post(reverse("payment_reissue", args=[line.payment_id]))
    assert response.status_code == 302
    line.payment.refresh_from_db()
    assert line.payment.status == PaymentStatus.DUE


def test_a_paid_payment_has_no_correction_page(client, clerk, run):
    line = run.transfers.first()
    assert client.get(reverse("payment_account_correct", args=[line.payment_id])).status_code == 404

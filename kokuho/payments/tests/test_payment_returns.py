"""振込不能: the bank's result makes work items; a corrected account pays in a later run
under the same 顧客コード; a bad or unknown line refuses the whole file."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from kokuho.payments.models import Payment, PaymentStatus, PaymentTransfer, TransferStatus
from kokuho.payments.returns import (
    ReturnFileError,
    ReturnReason,
    payment_reissue,
    payment_return_record,
    payment_returns_import,
)
from kokuho.payments.services import AccountInput, payments_account_replace
from kokuho.payments.tests.test_payment_run import PAY, _account, _due, _run
from kokuho.testing import make_person

pytestmark = pytest.mark.django_db

LATER = dt.date(2026, 12, 22)


@pytest.fixture(autouse=True)
def _payment_dir(tmp_path, settings):
    settings.KOKUHO_PAYMENT_DIR = tmp_path / "payments"


@pytest.fixture
def sent():
    a, b = make_person(), make_person()
    first, second = _due(a, 1200), _due(b, 3400)
    return _run().run, first, second


def _file(tmp_path, *lines, encoding="utf-8"):
    path = tmp_path / "result.csv"
    path.write_text("\n".join(["支払日,顧客コード,不能理由", *lines]) + "\n", encoding=encoding)
    return path


def test_a_returned_transfer_becomes_a_work_item_and_is_paid_again_once(sent, tmp_path):
    _, first, second = sent
    code = f"{first.pk:010d}"
    summary = payment_returns_import(path=_file(tmp_path, f"{PAY},{code},1"), actor=None)
    assert (summary.returned, summary.amount) == (1, 1200)
    first.refresh_from_db()
    assert first.status == PaymentStatus.RETURNED and "口座なし" in first.hold_detail
    line = PaymentTransfer.objects.get(payment=first)
    assert line.status == TransferStatus.RETURNED
    fixed = _account(first.person, AccountInput("0001", "004", 1, "7654321", "ヤマダ タロウ"))
    assert payments_account_replace(person=first.person, account=fixed) == 1
    later = _run(LATER).run
    (again,) = PaymentTransfer.objects.filter(run=later)
    assert (again.payment_id, again.customer_code, again.new_code) == (first.pk, code, 2)
    assert (later.count, later.total) == (1, 1200)
    second.refresh_from_db()
    assert second.status == PaymentStatus.SCHEDULED  # not returned, not paid again


def test_importing_the_same_result_twice_records_it_once(sent, tmp_path):
    _, first, _ = sent
    path = _file(tmp_path, f"{PAY},{first.pk:010d},2")
    payment_returns_import(path=path, actor=None)
    again = payment_returns_import(path=path, actor=None)
    assert (again.returned, again.already) == (0, 1)


@pytest.mark.parametrize(
    "line, message",
    [
        ("2026-12-18,0000000001", "列の数が見出しと合いません"),
        ("2026-12-32,0000000001,1", "支払日"),  # the layout reader's dates (ISO, 和暦 …)
        ("2026-12-18,12345,1", "顧客コード"),
        ("2026-12-18,0000000001,5", "不能理由"),
        ("2026-12-21,0000000001,1", "支払処理はありません"),
        ("2026-12-18,0000999999,1", "0000999999 はありません"),
    ],
)
def test_a_bad_or_unknown_line_refuses_the_file_and_changes_nothing(sent, tmp_path, line, message):
    _, first, _ = sent
    good = f"{PAY},{first.pk:010d},1"
    with pytest.raises(ReturnFileError, match=message) as error:
        payment_returns_import(path=_file(tmp_path, good, line), actor=None)
    assert "3行目" in str(error.value)
    assert not Payment.objects.filter(status=PaymentStatus.RETURNED).exists()


def test_a_cp932_file_is_read(sent, tmp_path):
    _, first, _ = sent
    path = _file(tmp_path, f"{PAY},{first.pk:010d},3", encoding="cp932")
    assert payment_returns_import(path=path, actor=None).returned == 1


def test_a_typed_return_and_a_reissue_to_the_same_account(sent):
    run, first, _ = sent
    payment_return_record(
        run=run, customer_code=f"{first.pk:010d}", reason=ReturnReason.OTHER, actor=None
    )
    first.refresh_from_db()
    payment_reissue(payment=first)
    later = _run(LATER).run
    (again,) = PaymentTransfer.objects.filter(run=later)
    assert (again.payment_id, again.new_code) == (first.pk, 0)


def test_the_command_exits_2_on_a_refused_file(sent, tmp_path):
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command(
            "payments", "returns", str(_file(tmp_path, "x,y,z")), stdout=StringIO(), stderr=err
        )
    assert exit_.value.code == 2 and "2行目" in err.getvalue()

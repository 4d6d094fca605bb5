"""The payment run: what is due goes out once, in files the independent reader accepts,
reconciled three ways; a repeated date writes the same bytes; a failure loses nothing."""

import datetime as dt
import hashlib
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kokuho.audit.models import AuditEvent, EventType
from kokuho.payments import run as run_module
from kokuho.payments.models import (
    AccountSource,
    Benefit,
    Payment,
    PaymentRun,
    PaymentRunStatus,
    PaymentStatus,
    PaymentTransfer,
)
from kokuho.payments.run import (
    PaymentRunError,
    ReconciliationError,
    payment_run,
    register_read_total,
)
from kokuho.payments.services import (
    AccountInput,
    payee_account_record,
    payment_schedule,
    payments_account_replace,
)
from kokuho.payments.tests import zengin_reader
from kokuho.testing import make_person

pytestmark = pytest.mark.django_db

# Friday 2026-12-18; sent on Monday 2026-12-14 at 10:00 (standard profile: 2 lead days).
PAY = dt.date(2026, 12, 18)
SENT = dt.datetime(2026, 12, 14, 10, 0)
MIZUHO = AccountInput("0001", "001", 1, "1234567", "ヤマダ タロウ")


@pytest.fixture(autouse=True)
def _payment_dir(tmp_path, settings):
    settings.KOKUHO_PAYMENT_DIR = tmp_path / "payments"


def _account(person, account=MIZUHO, **kw):
    return payee_account_record(
        person=person,
        account=account,
        source=kw.pop("source", AccountSource.APPLICATION),
        valid_from=dt.date(2026, 12, 1),
        actor=None,
        **kw,
    )


_ids = iter(range(1, 10**6))


def _due(person, amount, benefit=Benefit.KOGAKU, account=None, decided_on=dt.date(2026, 12, 1)):
    return payment_schedule(
        benefit=benefit,
        source_type="test_decision",
        source_id=next(_ids),
        person=person,
        account=account or _account(person),
        amount=amount,
        decided_on=decided_on,
    )


def _run(pay_date=PAY, **kw):
    return payment_run(pay_date=pay_date, actor=None, sent_at=kw.pop("sent_at", SENT), **kw)


def _zengin(run: PaymentRun) -> bytes:
    (entry,) = [f for f in run.files if f["name"].startswith("zengin-")]
    return Path(entry["path"]).read_bytes()


def test_it_pays_what_is_due_in_a_file_the_reader_accepts():
    a, b = make_person(), make_person(kana="キタガワ ハナコ")
    _due(a, 57600)
    _due(
        b,
        30000,
        benefit=Benefit.SOSAI,
        account=_account(b, AccountInput("0001", "004", 1, "2345678", "キタガワ ハナコ")),
    )
    outcome = _run()
    run = outcome.run
    parsed = zengin_reader.read(_zengin(run))
    assert (parsed.trailer_count, parsed.trailer_total) == (2, 87600)
    assert parsed.date_mmdd == "1218"
    assert {r.name for r in parsed.data} == {"ﾔﾏﾀﾞ ﾀﾛｳ", "ｷﾀｶﾞﾜ ﾊﾅｺ"}
    assert {r.bank_name for r in parsed.data} == {"ﾐｽﾞﾎ"}
    assert (run.count, run.total) == (2, 87600)
    assert run.totals["benefits"] == {
        "高額療養費": {"count": 1, "total": 57600},
        "葬祭費": {"count": 1, "total": 30000},
    }
    assert set(Payment.objects.values_list("status", flat=True)) == {PaymentStatus.SCHEDULED}
    assert AuditEvent.objects.filter(event_type=EventType.PAYMENT_RUN).count() == 1


def test_the_register_lists_every_line_and_its_totals():
    a = make_person()
    _due(a, 1000)
    _due(a, 2500, benefit=Benefit.SHUSSAN)
    run = _run().run
    (entry,) = [f for f in run.files if f["name"] == "register.csv"]
    data = Path(entry["path"]).read_bytes()
    assert data.startswith("\ufeff".encode())
    assert register_read_total(data) == (2, 3500)
    text = data.decode("utf-8-sig")
    assert "合計,給付,出産育児一時金,1,2500" in text
    assert "合計,予算科目,02-04-01-19 出産育児一時金,1,2500" in text
    assert "合計,総計,,2,3500" in text


def test_payments_list_json_agrees_with_the_files():
    a = make_person()
    for amount in (100, 200, 300):
        _due(a, amount)
    run = _run().run
    out = StringIO()
    call_command("payments", "list", "--json", stdout=out)
    (listed,) = json.loads(out.getvalue())
    parsed = zengin_reader.read(_zengin(run))
    assert listed["id"] == run.pk and listed["date"] == PAY.isoformat()
    assert listed["count"] == parsed.trailer_count == 3
    assert listed["total_yen"] == parsed.trailer_total == 600
    assert listed["totals"] == {"高額療養費": 600}
    assert all(Path(p).exists() for p in listed["files"])


def test_repeating_a_date_writes_the_same_bytes_and_takes_nothing_new():
    a = make_person()
    _due(a, 5000)
    first = _run().run
    original = _zengin(first)
    for entry in first.files:
        Path(entry["path"]).unlink()
    _due(a, 7000)  # decided after the run: the next 支払日's
    again = _run()
    assert again.repeated and again.run.pk == first.pk
    assert _zengin(again.run) == original
    assert Payment.objects.filter(status=PaymentStatus.DUE).count() == 1
    later = _run(dt.date(2026, 12, 21)).run
    assert (later.count, later.total) == (1, 7000)


def test_nothing_due_records_no_run():
    with pytest.raises(PaymentRunError, match="支払予定はありません"):
        _run()
    assert not PaymentRun.objects.exists()


def test_a_run_that_fails_while_writing_loses_nothing(monkeypatch):
    a = make_person()
    _due(a, 4000)

    def broken(path, data):
        raise OSError("disk full")

    monkeypatch.setattr(run_module, "write_atomic", broken)
    with pytest.raises(OSError):
        _run()
    assert not PaymentRun.objects.exists() and not PaymentTransfer.objects.exists()
    assert Payment.objects.get().status == PaymentStatus.DUE
    monkeypatch.undo()
    run = _run().run
    assert (run.count, run.total) == (1, 4000)


def test_a_disagreeing_register_stops_the_run(monkeypatch):
    a = make_person()
    _due(a, 4000)
    _due(a, 6000)
    real = run_module._register_csv
    monkeypatch.setattr(run_module, "_register_csv", lambda run, lines: real(run, lines[:1]))
    with pytest.raises(ReconciliationError, match="照合不一致"):
        _run()
    (stopped,) = PaymentRun.objects.all()
    assert stopped.status == PaymentRunStatus.STOPPED and "支払明細 1件" in stopped.error_message
    assert not PaymentTransfer.objects.exists()
    assert set(Payment.objects.values_list("status", flat=True)) == {PaymentStatus.DUE}


def test_new_code_is_1_first_0_again_and_2_after_an_account_change():
    a = make_person()
    _due(a, 100)
    first = _run().run
    _due(a, 200)
    second = _run(dt.date(2026, 12, 21)).run
    changed = _account(a, AccountInput("0001", "004", 1, "7654321", "ヤマダ タロウ"))
    _due(a, 300, account=changed)
    third = _run(dt.date(2026, 12, 22)).run
    codes = [zengin_reader.read(_zengin(r)).data[0].new_code for r in (first, second, third)]
    assert codes == [1, 0, 2]


def test_a_name_the_file_cannot_carry_is_held_as_a_work_item_and_released_when_fixed():
    a = make_person()
    long_name = AccountInput("0001", "001", 1, "1234567", "ア" * 31)
    payment = _due(a, 900, account=_account(a, long_name))
    assert payment.status == PaymentStatus.HELD and "30 文字" in payment.hold_detail
    with pytest.raises(PaymentRunError):
        _run()
    fixed = _account(a)
    assert payments_account_replace(person=a, account=fixed) == 1
    run = _run().run
    assert run.count == 1


def test_the_same_account_again_is_not_a_new_version_and_a_change_is():
    a = make_person()
    one = _account(a)
    assert _account(a).pk == one.pk
    two = _account(a, AccountInput("0001", "004", 1, "1234567", "ヤマダ タロウ"))
    one.refresh_from_db()
    assert (one.superseded_at is not None, two.version) == (True, 2)


@pytest.mark.parametrize(
    "pay_date, sent_at, message",
    [
        (dt.date(2026, 12, 19), SENT, "営業日ではありません"),  # Saturday
        (dt.date(2027, 1, 11), dt.datetime(2027, 1, 5, 9), "営業日ではありません"),  # 成人の日
        (dt.date(2026, 12, 31), SENT, "営業日ではありません"),  # 銀行の休日
        (dt.date(2026, 12, 15), SENT, "早すぎます"),  # only one business day after sending
        (dt.date(2026, 12, 16), dt.datetime(2026, 12, 14, 16, 0), "早すぎます"),  # after cut-off
        (dt.date(2027, 2, 15), SENT, "60 日より先"),
    ],
)
def test_a_pay_date_the_bank_cannot_take_is_refused(pay_date, sent_at, message):
    _due(make_person(), 100)
    with pytest.raises(PaymentRunError, match=message):
        _run(pay_date, sent_at=sent_at)
    assert not PaymentRun.objects.exists()


def test_the_command_runs_and_exits_2_on_a_bad_date(tmp_path):
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("payments", "run", "--date", "2026-13-01", stderr=err)
    assert exit_.value.code == 2 and "YYYY-MM-DD" in err.getvalue()


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    amounts=st.lists(st.integers(min_value=1, max_value=2_000_000), min_size=1, max_size=25),
    split=st.integers(min_value=0, max_value=25),
    order=st.randoms(use_true_random=False),
)
def test_whatever_the_order_every_payment_is_paid_once_and_the_sums_agree(amounts, split, order):
    PaymentTransfer.objects.all().delete()
    PaymentRun.objects.all().delete()
    Payment.objects.all().delete()
    people = [make_person() for _ in range(3)]
    decisions = list(enumerate(amounts))
    order.shuffle(decisions)
    for position, (index, amount) in enumerate(decisions):
        day = dt.date(2026, 12, 1) if position < split else dt.date(2026, 12, 17)
        _due(people[index % 3], amount, decided_on=day)
    runs = []
    for day in (dt.date(2026, 12, 16), dt.date(2026, 12, 18)):
        try:
            runs.append(_run(day).run)
        except PaymentRunError:  # nothing due on that day
            assert not Payment.objects.filter(status=PaymentStatus.DUE, payable_from__lte=day)
    files = [zengin_reader.read(_zengin(r)) for r in runs]
    assert sum(f.trailer_total for f in files) == sum(amounts)
    assert sum(f.trailer_count for f in files) == len(amounts)
    assert PaymentTransfer.objects.count() == len(amounts)
    assert not Payment.objects.exclude(status=PaymentStatus.SCHEDULED).exists()


def test_printing_writes_the_register_and_one_notice_per_payee():
    from pypdf import PdfReader

    from kokuho.payments.printing import payment_run_print

    a, b = make_person(), make_person(name="北川 花子", kana="キタガワ ハナコ")
    _due(a, 1000)
    _due(a, 2000, benefit=Benefit.SOSAI)
    _due(b, 3000)
    run = _run().run
    printed = payment_run_print(run=run, actor=None)
    assert [p["name"] for p in printed] == ["register.pdf", "notices-001.pdf"]
    notices = PdfReader(printed[1]["path"])
    assert len(notices.pages) == 2
    text = "".join(page.extract_text() for page in notices.pages)
    assert "3,000" in text and "****567" in text and "1234567" not in text
    register = "".join(p.extract_text() for p in PdfReader(printed[0]["path"]).pages)
    assert all(f"{p.pk:010d}" in register for p in Payment.objects.all())
    run.refresh_from_db()
    assert len(run.prints) == 2
    assert AuditEvent.objects.filter(event_type=EventType.PAYMENT_PRINTED).count() == 1


def test_the_file_for_the_bank_is_in_the_export_register_and_fetching_it_is_audited():
    from kokuho.interfaces.models import ExportKind, ExportRecord
    from kokuho.payments.run import payment_run_file

    a = make_person()
    _due(a, 1500)
    _due(a, 2500)
    run = _run().run
    (record,) = ExportRecord.objects.filter(kind=ExportKind.PAYMENT_TRANSFER)
    data = _zengin(run)

    assert record.file_sha256 == hashlib.sha256(data).hexdigest()
    assert (record.record_count, record.reference) == (2, f"payment-run:{run.pk}")
    assert "1234" in record.recipient
    _run()  # a repeated date writes the same bytes: nothing new leaves
    assert ExportRecord.objects.filter(kind=ExportKind.PAYMENT_TRANSFER).count() == 1
    path = payment_run_file(run=run, name="zengin-nhi.txt", actor=None)
    assert path.read_bytes() == data
    event = AuditEvent.objects.filter(event_type=EventType.PAYMENT_FILE_FETCHED).get()
    assert event.extra["sha256"] == record.file_sha256
    with pytest.raises(FileNotFoundError):
        payment_run_file(run=run, name="../../etc/passwd", actor=None)

"""公金受取口座: the 照会 result file becomes the payee's account (a new version, source
公金受取口座) — except over an account the person gave on an application — and releases
payments waiting for one; a bad file is refused whole, naming each line."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from kokuho.payments.models import AccountSource, Benefit, HoldReason, PayeeAccount
from kokuho.payments.public_accounts import (
    HEADER,
    PublicAccountFileError,
    public_accounts_import,
)
from kokuho.payments.services import AccountInput, payee_account_record, payment_schedule
from kokuho.testing import make_person

pytestmark = pytest.mark.django_db

ASKED = "2026-11-20"


def _file(tmp_path, *lines: tuple, name: str = "public.csv"):
    path = tmp_path / name
    rows = [",".join(HEADER)] + [",".join(str(v) for v in line) for line in lines]
    path.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    return path


def _line(person, number="7654321", name="ヤマダ タロウ", bank="0001", branch="001"):
    return (person.atena_no, person.birth_date.isoformat(), ASKED, bank, branch, 1, number, name)


def test_a_person_without_an_account_is_paid_to_the_public_account(tmp_path):
    person = make_person()
    waiting = payment_schedule(
        benefit=Benefit.SOSAI,
        source_type="test",
        source_id=1,
        person=person,
        account=None,
        amount=30000,
        decided_on=dt.date(2026, 11, 1),
    )
    assert waiting.hold_reason == HoldReason.NO_ACCOUNT
    summary = public_accounts_import(path=_file(tmp_path, _line(person)), actor=None)
    assert (summary.kept, summary.unchanged) == (1, 0)
    account = PayeeAccount.objects.get(person=person)
    assert (account.source, account.source_ref, account.valid_from) == (
        AccountSource.PUBLIC,
        f"公金受取口座照会:{ASKED}",
        dt.date(2026, 11, 20),
    )
    assert account.account_number == "7654321" and account.holder_zengin
    waiting.refresh_from_db()
    assert waiting.account == account and waiting.hold_reason == ""


def test_an_account_given_on_an_application_stays_current(tmp_path):
    person = make_person()
    own = payee_account_record(
        person=person,
        account=AccountInput("0001", "001", 1, "1111111", "ヤマダ タロウ"),
        source=AccountSource.APPLICATION,
        valid_from=dt.date(2026, 4, 1),
        actor=None,
    )
    summary = public_accounts_import(path=_file(tmp_path, _line(person)), actor=None)
    assert (summary.kept, summary.kept_applicant) == (0, [person.atena_no])
    assert list(PayeeAccount.objects.filter(person=person)) == [own]
    assert "申請書等で届け出た口座を優先" in summary.format()


def test_a_newer_answer_is_a_new_version_and_the_same_answer_changes_nothing(tmp_path):
    person = make_person()
    public_accounts_import(path=_file(tmp_path, _line(person)), actor=None)
    same = public_accounts_import(path=_file(tmp_path, _line(person), name="b.csv"), actor=None)
    assert (same.kept, same.unchanged) == (0, 1)
    public_accounts_import(path=_file(tmp_path, _line(person, "2222222"), name="c.csv"), actor=None)
    versions = list(PayeeAccount.objects.filter(person=person).order_by("version"))
    assert [(a.version, a.account_number, a.superseded_at is None) for a in versions] == [
        (1, "7654321", False),
        (2, "2222222", True),
    ]


def test_a_bad_file_names_every_bad_line_and_keeps_nothing(tmp_path):
    a, b = make_person(), make_person(birth_date=dt.date(1970, 1, 1))
    stranger = (b.atena_no, "1999-01-01", ASKED, "0001", "001", 1, "7654321", "ヤマダ タロウ")
    path = _file(
        tmp_path,
        _line(a),
        stranger,  # 生年月日 differs
        _line(a, "7654322"),  # twice in the file
        (a.atena_no, a.birth_date.isoformat(), ASKED, "0001", "001", 3, "7654321", "ヤマダ"),
        _line(b, bank="9998"),  # no such bank
    )
    with pytest.raises(PublicAccountFileError) as refused:
        public_accounts_import(path=path, actor=None)
    problems = refused.value.problems
    assert any(p.startswith("3行目 宛名番号") for p in problems)
    assert any(p.startswith("4行目 宛名番号") and "重複" in p for p in problems)
    assert any(p.startswith("5行目 預金種目") for p in problems)
    assert any(p.startswith("6行目") for p in problems)
    assert not PayeeAccount.objects.exists()


def test_the_command_imports_and_exits_2_on_a_refused_file(tmp_path):
    person = make_person()
    out = StringIO()
    call_command("payments", "public-accounts", str(_file(tmp_path, _line(person))), stdout=out)
    assert "振込先に記録 1件" in out.getvalue()
    err = StringIO()
    bad = _file(tmp_path, ("0", "2000-01-01", ASKED, "0001", "001", 1, "1", "x"), name="bad.csv")
    with pytest.raises(SystemExit) as exit_:
        call_command("payments", "public-accounts", str(bad), stderr=err)
    assert exit_.value.code == 2 and "取り込めません" in err.getvalue()

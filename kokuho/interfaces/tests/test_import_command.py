"""`kokuho import …`: summary on stdout, exit 1 with the reason when the file is rejected."""

import io

import pytest
from django.core.management import call_command

from kokuho.interfaces.tests.support import INCOME_HEADER, change, write_csv
from kokuho.people.models import Income, Person
from kokuho.testing import make_person

pytestmark = pytest.mark.django_db


def test_it_imports_residents_changes_and_prints_the_summary(tmp_path):
    path = write_csv(
        tmp_path / "residents-changes.csv", [change("1", "A01", "2026-04-01", "1", "5")]
    )
    out = io.StringIO()
    call_command("import", "residents-changes", str(path), "--no-progress", stdout=out)
    assert "住基異動の取込結果: residents-changes.csv（文字コード UTF-8" in out.getvalue()
    assert Person.objects.filter(atena_no="1").exists()


def test_it_exits_1_with_the_reason_when_the_file_is_rejected(tmp_path):
    path = tmp_path / "residents-changes.csv"
    path.write_text("record_id,change_code\r\n1,A01\r\n")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import", "residents-changes", str(path), "--no-progress", stderr=err)
    assert exit_.value.code == 1
    assert (
        "取込できません: residents-changes.csv: 必須の列がありません: change_date" in err.getvalue()
    )


def test_income_takes_a_report_date_in_wareki(tmp_path):
    make_person(atena_no="700")
    row = dict(
        zip(INCOME_HEADER, ["1", "700", "2025", "1", "1", "0", "1", "0", "0", "0"], strict=True)
    )
    path = write_csv(tmp_path / "income.csv", [row], header=INCOME_HEADER)
    out = io.StringIO()
    call_command(
        "import", "income", str(path), "--no-progress", "--reported-on", "R8.6.1", stdout=out
    )
    assert "反映          1 件" in out.getvalue()
    assert Income.objects.get().total_income == 1


def test_it_prints_the_first_held_lines_with_field_and_reason(tmp_path):
    from kokuho.demo.numbers import demo_my_number

    number = demo_my_number(4242)
    rows = [
        change("1", "A01", "2026-04-01", "11", "51"),
        change("2", "A01", "2026-13-01", "12", "52"),  # no such month
        change("3", "A01", "2026-04-01", "13", "53", address=f"本町{number}"),
    ]
    out = io.StringIO()
    path = write_csv(tmp_path / "residents-changes.csv", rows)
    call_command("import", "residents-changes", str(path), "--no-progress", stdout=out)
    text = out.getvalue()
    assert "保留した行（先頭 2 件。すべては画面「取込の保留行」）" in text
    assert "3 行目 change_date: 異動日" in text
    assert "4 行目 address: 住所: 個人番号と思われる12桁の数字" in text
    assert number not in text and f"**** **** {number[-4:]}" in text

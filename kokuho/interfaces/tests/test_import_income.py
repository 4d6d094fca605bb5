"""所得の取込: validation of the layout's own rules, unknown people, 更正 by report date."""

import datetime as dt

import pytest

from kokuho.interfaces.models import QuarantinedRow
from kokuho.interfaces.services import import_income
from kokuho.interfaces.tests.support import INCOME_HEADER, write_csv
from kokuho.people.models import Income
from kokuho.testing import make_person

pytestmark = pytest.mark.django_db
D = dt.date


def _row(record_id: str, atena_no: str, **fields: str) -> dict[str, str]:
    row = {
        "record_id": record_id,
        "atena_no": atena_no,
        "income_year": "2025",
        "total_income": "2500000",
        "taxable": "1800000",
        "tax_exempt": "0",
        "revenue": "3800000",
        "pension_revenue": "0",
        "pension_income": "0",
        "unreported": "0",
    }
    return row | fields


def _import(tmp_path, rows, name="income.csv", reported_on=None):
    path = write_csv(tmp_path / name, rows, header=INCOME_HEADER)
    return import_income(path=path, actor=None, progress=False, reported_on=reported_on)


def test_it_records_valid_rows_and_quarantines_invalid_ones(tmp_path):
    person = make_person(atena_no="700")
    other = make_person(atena_no="701")
    rows = [
        _row("1", "700"),
        _row("2", "701", taxable="9999999"),  # taxable > total_income: not our rule to make
        _row("3", "702"),  # unknown person
        _row("4", "700", income_year="2024", total_income="-5"),
        _row("5", "700", income_year="2023", tax_exempt="2"),
        _row("6", "700", income_year="2022", revenue="1,000"),
        _row("7", "700", income_year="２０２１", pension_revenue="", unreported=""),
    ]
    summary = _import(tmp_path, rows)
    assert (summary.applied, summary.quarantined_total) == (3, 4)
    assert list(QuarantinedRow.objects.order_by("line").values_list("line", "field", "reason")) == [
        (4, "atena_no", "宛名番号 702 の住民が見つかりません"),
        (5, "total_income", "総所得金額等: 0 以上の整数で入力してください: '-5'"),
        (6, "tax_exempt", "住民税非課税: '2' は使えない値です（0, 1 のいずれか）"),
        (7, "revenue", "収入額: 0 以上の整数で入力してください: '1,000'"),
    ]
    income = Income.objects.get(person=person, income_year=2025)
    assert (income.total_income, income.tax_exempt, income.applies_from) == (
        2500000,
        False,
        D(2026, 8, 1),
    )
    assert Income.objects.get(person=other).taxable == 9999999
    defaults = Income.objects.get(person=person, income_year=2021)
    assert (defaults.pension_revenue, defaults.unreported) == (0, False)


def test_a_later_record_is_a_correction_from_the_month_after_the_report(tmp_path):
    person = make_person(atena_no="700")
    _import(tmp_path, [_row("1", "700")], name="a.csv", reported_on=D(2026, 6, 1))
    _import(
        tmp_path,
        [_row("2", "700", total_income="100000")],
        name="b.csv",
        reported_on=D(2026, 10, 15),
    )
    applies = list(
        Income.objects.filter(person=person)
        .order_by("applies_from")
        .values_list("applies_from", "total_income")
    )
    assert applies == [(D(2026, 8, 1), 2500000), (D(2026, 11, 1), 100000)]


def test_a_rerun_changes_nothing(tmp_path):
    make_person(atena_no="700")
    _import(tmp_path, [_row("1", "700"), _row("2", "799")])
    summary = _import(tmp_path, [_row("1", "700"), _row("2", "799")])
    assert (summary.applied, summary.skipped, summary.quarantined_total) == (0, 2, 0)
    assert Income.objects.count() == 1 and QuarantinedRow.objects.count() == 1

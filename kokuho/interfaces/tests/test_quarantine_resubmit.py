"""Correcting a quarantined row on screen and re-submitting it, or discarding it."""

import datetime as dt

import pytest

from kokuho.eligibility.selectors import eligibility_periods
from kokuho.interfaces.models import ImportedRecord, QuarantinedRow, QuarantineStatus
from kokuho.interfaces.selectors import quarantined_rows_open
from kokuho.interfaces.services import (
    QuarantineError,
    ResubmitStatus,
    import_residents_changes,
    quarantine_discard,
    quarantine_resubmit,
)
from kokuho.interfaces.tests.support import change, write_csv
from kokuho.people.models import Person
from kokuho.testing import make_staff

CONFLICT_REASON = "同じ異動連番で内容が異なります（競合）"
pytestmark = pytest.mark.django_db
D = dt.date


def _import(path):
    return import_residents_changes(path=path, actor=None, progress=False)


def test_a_corrected_row_is_applied_and_marked_resubmitted(tmp_path):
    staff = make_staff()
    path = write_csv(
        tmp_path / "residents-changes.csv",
        [change("1", "A01", "2026-02-30", "101", "501", name_kana="ﾔﾏﾀﾞ")],
    )
    _import(path)
    row = quarantined_rows_open().get()

    outcome = quarantine_resubmit(row=row, corrected={"change_date": "2026-03-02"}, actor=staff)

    assert outcome.status == ResubmitStatus.APPLIED and outcome.applied
    assert row.status == QuarantineStatus.RESUBMITTED and row.resolved_by == staff
    assert row.corrected["change_date"] == "2026-03-02"
    person = Person.objects.get(atena_no="101")
    assert person.name_kana == "ヤマダ"
    assert eligibility_periods(person=person)[0].start == D(2026, 3, 2)
    assert ImportedRecord.objects.get().record_id == "1"

    # The original file again: the row was seen (and handled), so nothing happens.
    again = _import(path)
    assert (again.skipped, again.quarantined_total) == (1, 0)


def test_a_row_still_invalid_stays_open_with_the_new_errors(tmp_path):
    _import(write_csv(tmp_path / "r.csv", [change("1", "A01", "2026-02-30", "101", "501")]))
    row = QuarantinedRow.objects.get()
    outcome = quarantine_resubmit(
        row=row, corrected={"change_date": "2026-02-31", "sex": "x"}, actor=None
    )
    assert outcome.status == ResubmitStatus.INVALID
    assert [(e.field, e.reason) for e in outcome.errors] == [
        ("change_date", "異動日: 存在しない日付です: 2026年2月31日"),
        ("sex", "性別: 'x' は使えない値です（1, 2 のいずれか）"),
    ]
    row.refresh_from_db()
    assert row.status == QuarantineStatus.OPEN and not Person.objects.exists()


def test_a_short_row_can_be_completed(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(
        "record_id,change_code,change_date,atena_no,household_no,relation,name,name_kana,"
        "birth_date,sex,postal_code,address,destination\r\n1,A01,2026-04-01\r\n"
    )
    _import(path)
    row = QuarantinedRow.objects.get()
    assert row.code == "row_shape"
    outcome = quarantine_resubmit(
        row=row,
        corrected={
            "atena_no": "101",
            "household_no": "501",
            "relation": "世帯主",
            "name": "試験 太郎",
            "name_kana": "シケン タロウ",
            "birth_date": "1980-01-01",
            "sex": "1",
            "postal_code": "799-0001",
            "address": "みかん市本町1-1",
        },
        actor=None,
    )
    assert outcome.applied, outcome.message()


def test_a_conflict_cannot_be_resubmitted_unless_it_matches_what_was_applied(tmp_path):
    _import(write_csv(tmp_path / "a.csv", [change("1", "A01", "2026-04-01", "101", "501")]))
    _import(write_csv(tmp_path / "b.csv", [change("1", "A01", "2026-04-02", "101", "501")]))
    row = QuarantinedRow.objects.get()
    assert row.reason == CONFLICT_REASON

    outcome = quarantine_resubmit(row=row, corrected={}, actor=None)
    assert outcome.status == ResubmitStatus.INVALID
    assert outcome.errors[0].reason == CONFLICT_REASON

    outcome = quarantine_resubmit(row=row, corrected={"change_date": "2026-04-01"}, actor=None)
    assert outcome.status == ResubmitStatus.ALREADY_APPLIED
    assert row.status == QuarantineStatus.RESUBMITTED


def test_a_refusal_by_the_services_keeps_the_row_open(tmp_path):
    _import(write_csv(tmp_path / "r.csv", [change("1", "B02", "2026-04-01", "999", "1")]))
    row = QuarantinedRow.objects.get()
    outcome = quarantine_resubmit(row=row, corrected={"atena_no": "998"}, actor=None)
    assert outcome.errors[0].reason == "宛名番号 998 の住民が見つかりません"
    row.refresh_from_db()
    assert row.status == QuarantineStatus.OPEN


def test_discarded_rows_cannot_be_resubmitted(tmp_path):
    staff = make_staff()
    _import(write_csv(tmp_path / "r.csv", [change("1", "Z99", "2026-04-01", "1", "1")]))
    row = QuarantinedRow.objects.get()
    quarantine_discard(row=row, actor=staff, note="二重送信")
    assert row.status == QuarantineStatus.DISCARDED and row.resolved_at is not None
    assert not quarantined_rows_open().exists()
    with pytest.raises(QuarantineError, match="処理済み"):
        quarantine_resubmit(row=row, corrected={"change_code": "A01"}, actor=staff)


def test_unknown_fields_are_refused(tmp_path):
    _import(write_csv(tmp_path / "r.csv", [change("1", "Z99", "2026-04-01", "1", "1")]))
    with pytest.raises(QuarantineError, match="様式にない項目です: nickname"):
        quarantine_resubmit(
            row=QuarantinedRow.objects.get(), corrected={"nickname": "x"}, actor=None
        )

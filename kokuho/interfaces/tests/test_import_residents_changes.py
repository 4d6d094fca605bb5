"""住基異動の取込: good rows applied, bad rows quarantined exactly, re-runs change nothing."""

import datetime as dt

import pytest
from django.db import connection

from kokuho.audit.models import AuditEvent
from kokuho.eligibility.selectors import eligibility_periods
from kokuho.interfaces.models import (
    ImportedRecord,
    ImportErrorCode,
    ImportFile,
    QuarantinedRow,
)
from kokuho.interfaces.services import ImportRejected, import_residents_changes
from kokuho.interfaces.tests.support import CHANGES_HEADER, change, csv_text, write_csv
from kokuho.people.models import ChangeCode, CoverageKind, Household, Person, Relation
from kokuho.testing import make_household, make_person, make_staff

CONFLICT_REASON = "同じ異動連番で内容が異なります（競合）"
pytestmark = pytest.mark.django_db
D = dt.date
COUNTED_TABLES = (
    "people_person",
    "people_personhistory",
    "people_household",
    "people_householdhistory",
    "people_othercoverage",
    "eligibility_eligibilityversion",
    "eligibility_eligibilityperiod",
)


def _counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in COUNTED_TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (fixed names)
            counts[table] = cursor.fetchone()[0]
    return counts


def _import(path, actor=None):
    return import_residents_changes(path=path, actor=actor, progress=False)


def _quarantine() -> list[tuple[int, str, str, str]]:
    return list(
        QuarantinedRow.objects.order_by("line").values_list("line", "field", "value", "reason")
    )


def test_it_applies_good_rows_and_quarantines_bad_ones_with_line_field_and_reason(tmp_path):
    resident = make_person(atena_no="700")
    short = "9,A01,2026-04-01"
    rows = [
        change("1", "A01", "2026-04-01", "101", "501"),  # line 2: good
        change("2", "A01", "2026-02-30", "102", "502"),  # line 3: no such day
        change("3", "A01", "あした", "103", "503"),  # line 4: not a date
        change("4", "Z99", "2026-04-01", "104", "504"),  # line 5: unknown code
        change("5", "B01", "2026-04-10", "999", "505"),  # line 6: unknown resident
        change(
            "6",
            "C01",
            "2026-04-10",
            "998",
            "506",
            relation="世帯主",
            postal_code="799-0002",
            address="みかん市新町2-2",
        ),  # line 7: unknown resident (C code)
        change(
            "7",
            "A02",
            "2026-04-05",
            "105",
            "501",
            relation="子",
            birth_date="2026-04-05",
            name_kana="ｼｹﾝ ｼﾞﾛｳ",
        ),  # line 8: good, half-width kana
        change("8", "A01", "R8.4.1", "106", "506", birth_date="令和元年5月1日"),  # line 9: good
        change("10", "A01", "2026-04-01", "107", "507", sex="3"),  # line 10: bad sex code
        change(
            "11", "A01", "2026-04-01", "108", "508", name=""
        ),  # line 12: missing name (after the short row)
        change(
            "12",
            "C05",
            "2026-04-01",
            "700",
            resident.household.household_no,
            relation="世帯主",
            name="山田 一郎",
            name_kana="ﾔﾏﾀﾞ ｲﾁﾛｳ",
        ),  # line 13: good
        change("13", "B01", "2026-04-10", "101", "501", destination="月"),  # line 14: bad
    ]
    text = csv_text(rows, CHANGES_HEADER)
    lines = text.split("\r\n")
    lines.insert(10, short)  # line 11; the rows after it move down by one
    path = tmp_path / "residents-changes.csv"
    path.write_text("\r\n".join(lines), encoding="utf-8")

    summary = _import(path)

    assert (summary.read, summary.applied, summary.skipped) == (13, 4, 0)
    assert summary.encoding == "UTF-8"
    assert _quarantine() == [
        (3, "change_date", "2026-02-30", "異動日: 存在しない日付です: 2026年2月30日"),
        (
            4,
            "change_date",
            "あした",
            "異動日: 日付の形式が正しくありません: 'あした'"
            "（例: 1960-05-10, S35.5.10, 昭和35年5月10日）",
        ),
        (
            5,
            "change_code",
            "Z99",
            "異動事由: 'Z99' は使えない値です"
            "（A01, A02, A03, B01, B02, B03, C01, C02, C03, C04, C05 のいずれか）",
        ),
        (6, "atena_no", "999", "宛名番号 999 の住民が見つかりません"),
        (7, "atena_no", "998", "宛名番号 998 の住民が見つかりません"),
        (10, "sex", "3", "性別: '3' は使えない値です（1, 2 のいずれか）"),
        (11, "", "", "列の数が見出しと合いません（見出し 18 列、この行 3 列）"),
        (12, "name", "", "氏名（name）が入力されていません"),
        (
            14,
            "destination",
            "月",
            "転出先: '月' は使えない値です（domestic, abroad のいずれか）",
        ),
    ]
    quarantined = QuarantinedRow.objects.get(line=6)
    assert quarantined.file.file_name == "residents-changes.csv"
    assert quarantined.record_id == "5" and quarantined.code == ImportErrorCode.UNKNOWN_RESIDENT
    assert quarantined.raw["change_code"] == "B01"
    assert summary.quarantined["住民が見つからない（atena_no）"] == 2

    child = Person.objects.get(atena_no="105")
    assert child.name_kana == "シケン\u3000ジロウ" and child.relation == Relation.CHILD
    assert child.history.get().change_code == ChangeCode.BIRTH
    wareki = Person.objects.get(atena_no="106")
    assert wareki.resident_from == D(2026, 4, 1) and wareki.birth_date == D(2019, 5, 1)
    resident.refresh_from_db()
    assert resident.name == "山田 一郎" and resident.name_kana == "ヤマダ\u3000イチロウ"
    assert eligibility_periods(person=Person.objects.get(atena_no="101"))[0].start == D(2026, 4, 1)


def test_a_rerun_of_the_same_file_applies_nothing_and_changes_no_table(tmp_path):
    head = make_person(atena_no="700")
    rows = [
        change("1", "A01", "2026-04-01", "101", "501"),
        change("2", "A01", "2026-04-01", "102", "501", relation="妻", sex="2"),
        change(
            "3",
            "C01",
            "2026-05-01",
            "101",
            "501",
            relation="世帯主",
            postal_code="7990002",
            address="みかん市新町2-2",
        ),
        change("4", "B01", "2026-06-10", "700", head.household.household_no),
        change("5", "B01", "2026-06-10", "999", "1"),  # quarantined once, skipped after
        change("6", "C02", "2026-07-01", "102", "501", relation="世帯主"),
    ]
    path = write_csv(tmp_path / "residents-changes.csv", rows)
    first = _import(path)
    assert (first.applied, first.quarantined_total) == (5, 1)
    before = _counts()
    quarantined_before = QuarantinedRow.objects.count()

    again = _import(path)

    assert (again.read, again.applied, again.skipped, again.quarantined_total) == (6, 0, 6, 0)
    assert _counts() == before
    assert QuarantinedRow.objects.count() == quarantined_before
    assert again.same_content_as == [first.import_file_id]
    assert "同じ内容のファイルを取込済みです" in again.format()


def test_the_same_record_twice_in_a_file_is_applied_once(tmp_path):
    row = change("1", "A01", "2026-04-01", "101", "501")
    summary = _import(write_csv(tmp_path / "residents-changes.csv", [row, row]))
    assert (summary.applied, summary.skipped, summary.quarantined_total) == (1, 1, 0)


def test_a_changed_record_under_a_known_id_is_a_conflict_within_a_file(tmp_path):
    rows = [
        change("1", "A01", "2026-04-01", "101", "501"),
        change("1", "A01", "2026-04-02", "101", "501"),
    ]
    summary = _import(write_csv(tmp_path / "residents-changes.csv", rows))
    assert (summary.applied, summary.quarantined_total) == (1, 1)
    assert _quarantine() == [(3, "record_id", "1", CONFLICT_REASON)]
    assert Person.objects.get(atena_no="101").resident_from == D(2026, 4, 1)


def test_a_changed_record_under_a_known_id_is_a_conflict_across_files(tmp_path):
    _import(write_csv(tmp_path / "a.csv", [change("1", "A01", "2026-04-01", "101", "501")]))
    before = _counts()
    changed = change("1", "A01", "2026-04-01", "101", "501", name="別人 花子")
    summary = _import(write_csv(tmp_path / "b.csv", [changed]))
    assert summary.quarantined == {"レコードIDの競合（record_id）": 1}
    row = QuarantinedRow.objects.get()
    assert (row.file.file_name, row.line, row.reason) == ("b.csv", 2, CONFLICT_REASON)
    assert _counts() == before
    assert Person.objects.get(atena_no="101").name == "試験 太郎"


def test_move_in_then_move_out_yields_the_period_with_the_right_last_day(tmp_path):
    rows = [
        change("1", "A01", "2026-04-01", "101", "501"),
        change("2", "A01", "2026-04-01", "102", "502"),
        change("3", "A01", "2026-04-01", "103", "503"),
        change("4", "B01", "2026-06-10", "101", "501"),  # domestic: the day before
        change("5", "B01", "2026-06-10", "102", "502", destination="abroad"),  # that day
        change("6", "B03", "2026-06-10", "103", "503"),  # 職権消除: that day
    ]
    summary = _import(write_csv(tmp_path / "residents-changes.csv", rows))
    assert summary.applied == 6
    ends = {
        atena: [
            (p.start, p.end) for p in eligibility_periods(person=Person.objects.get(atena_no=atena))
        ]
        for atena in ("101", "102", "103")
    }
    assert ends == {
        "101": [(D(2026, 4, 1), D(2026, 6, 9))],
        "102": [(D(2026, 4, 1), D(2026, 6, 10))],
        "103": [(D(2026, 4, 1), D(2026, 6, 10))],
    }


def test_household_codes_are_applied(tmp_path):
    rows = [
        change("1", "A01", "2026-04-01", "101", "501"),
        change("2", "A01", "2026-04-01", "102", "501", relation="妻", sex="2"),
        change("3", "C03", "2026-05-01", "102", "502", relation="世帯主"),
        change("4", "C04", "2026-06-01", "102", "501", relation="妻"),
        change("5", "C02", "2026-07-01", "102", "501", relation="世帯主"),
        change("6", "B02", "2026-08-01", "101", "501"),
    ]
    summary = _import(write_csv(tmp_path / "residents-changes.csv", rows))
    assert summary.applied == 6, QuarantinedRow.objects.values_list("reason", flat=True)
    household = Household.objects.get(household_no="501")
    assert household.head.atena_no == "102"
    assert Household.objects.get(household_no="502").head is None
    assert Person.objects.get(atena_no="101").resident_until == D(2026, 8, 1)


def test_a_head_change_into_an_unknown_household_is_quarantined_on_household_no(tmp_path):
    make_person(atena_no="700")
    rows = [change("1", "C02", "2026-04-01", "700", "123456", relation="世帯主")]
    _import(write_csv(tmp_path / "residents-changes.csv", rows))
    row = QuarantinedRow.objects.get()
    assert (row.field, row.value, row.code) == ("household_no", "123456", "unknown_household")


def test_a_refused_change_keeps_the_services_reason(tmp_path):
    rows = [
        change("1", "A01", "2026-04-01", "101", "501"),
        change("2", "A01", "2026-05-01", "101", "501"),  # already a resident
    ]
    _import(write_csv(tmp_path / "residents-changes.csv", rows))
    row = QuarantinedRow.objects.get()
    assert row.code == ImportErrorCode.REJECTED and row.field == ""
    assert row.reason == "転入を反映できません: 宛名番号 101 は既に住民です（転入・出生は登録済み）"


def test_special_address_on_a01_records_the_other_municipality(tmp_path):
    rows = [
        change("1", "A01", "2026-04-01", "101", "501", special_address="1"),
        change("2", "A02", "2026-04-01", "102", "501", relation="子", special_address="1"),
    ]
    summary = _import(write_csv(tmp_path / "residents-changes.csv", rows))
    person = Person.objects.get(atena_no="101")
    assert person.coverages.get().kind == CoverageKind.OTHER_MUNICIPALITY
    assert eligibility_periods(person=person) == []
    assert summary.quarantined == {"値の誤り（special_address）": 1}


def test_foreign_residents_keep_their_residence_data(tmp_path):
    rows = [
        change(
            "1",
            "A01",
            "2026-04-01",
            "101",
            "501",
            foreign="1",
            residence_status="留学",
            residence_until="2028-03-31",
            name_kana="ｼﾞｮﾝ･ｽﾐｽ",
        ),
        change("2", "A01", "2026-04-01", "102", "502", residence_until="2028-03-31"),
    ]
    summary = _import(write_csv(tmp_path / "residents-changes.csv", rows))
    person = Person.objects.get(atena_no="101")
    assert person.is_foreign and person.residence_until == D(2028, 3, 31)
    assert person.name_kana == "ジョン・スミス"
    assert QuarantinedRow.objects.get().field == "residence_until"
    assert summary.applied == 1


def test_the_report_date_defaults_to_the_change_date(tmp_path):
    rows = [
        change("1", "A01", "2026-04-01", "101", "501"),
        change("2", "A01", "2026-04-01", "102", "502", report_date="20260420"),
    ]
    _import(write_csv(tmp_path / "residents-changes.csv", rows))
    reported = {
        p.atena_no: p.history.get().reported_on
        for p in Person.objects.filter(atena_no__in=["101", "102"])
    }
    assert reported == {"101": D(2026, 4, 1), "102": D(2026, 4, 20)}


def test_b01_needs_a_destination(tmp_path):
    make_person(atena_no="700", household=make_household(household_no="600"))
    rows = [change("1", "B01", "2026-04-01", "700", "600", destination="")]
    _import(write_csv(tmp_path / "residents-changes.csv", rows))
    assert _quarantine() == [(2, "destination", "", "転出先（destination）が入力されていません")]


def test_the_ledger_records_the_file_and_one_audit_event(tmp_path):
    staff = make_staff()
    rows = [change("1", "A01", "2026-04-01", "101", "501"), change("2", "Z99", "x", "1", "1")]
    path = write_csv(tmp_path / "residents-changes.csv", rows, encoding="cp932")
    summary = _import(path, actor=staff)
    file = ImportFile.objects.get()
    assert file.actor == staff and file.encoding == "CP932" and file.finished_at is not None
    assert file.counts["read"] == 2 and file.counts["applied"] == 1
    assert file.counts["quarantined_by_reason"] == dict(summary.quarantined)
    assert ImportedRecord.objects.get().record_id == "1"
    event = AuditEvent.objects.get(subject_id=f"import_file:{file.pk}")
    assert event.actor == staff and event.extra["import_file"]["counts"]["applied"] == 1
    assert "読込          2 件" in summary.format()


def test_a_rejected_file_is_recorded_and_nothing_is_applied(tmp_path):
    path = tmp_path / "residents-changes.csv"
    path.write_bytes(b"record_id,change_code\r\n1,\x82\xff\r\n")
    with pytest.raises(ImportRejected):
        _import(path)
    file = ImportFile.objects.get()
    assert file.rejected_reason.startswith("文字コードを判別できません")
    assert not QuarantinedRow.objects.exists() and not Person.objects.exists()


@pytest.mark.parametrize("code", ["B01", "B02", "B03", "C01", "C02", "C03", "C04", "C05"])
def test_b_and_c_codes_for_an_unknown_resident_are_quarantined_on_atena_no(tmp_path, code):
    make_household(household_no="501")
    row = change(
        "1",
        code,
        "2026-04-01",
        "999",
        "501",
        relation="世帯主",
        name="山田 一郎",
        name_kana="ヤマダ イチロウ",
        postal_code="799-0001",
        address="みかん市本町1-1",
    )
    summary = _import(write_csv(tmp_path / "residents-changes.csv", [row]))
    assert summary.quarantined == {"住民が見つからない（atena_no）": 1}
    assert _quarantine() == [(2, "atena_no", "999", "宛名番号 999 の住民が見つかりません")]


def test_a03_is_a_move_in(tmp_path):
    summary = _import(
        write_csv(tmp_path / "residents-changes.csv", [change("1", "A03", "2026-04-01", "1", "5")])
    )
    assert summary.applied == 1
    assert eligibility_periods(person=Person.objects.get(atena_no="1"))[0].acquired == "move_in"


@pytest.mark.django_db
def test_history_keeps_the_registry_code_of_official_changes(tmp_path):
    from kokuho.people.models import PersonHistory

    rows = [
        change("1", "A03", "2026-04-01", "301", "801"),
        change("2", "B03", "2026-06-10", "301", "801"),
    ]
    summary = _import(write_csv(tmp_path / "residents-changes.csv", rows))
    assert summary.applied == 2
    codes = list(
        PersonHistory.objects.filter(person__atena_no="301")
        .order_by("id")
        .values_list("change_code", flat=True)
    )
    assert codes == ["A03", "B03"]


def test_a_file_cut_short_applies_nothing(tmp_path):
    rows = [change(f"9{n}", "A01", "2026-04-01", f"87000000{n}", f"97000000{n}") for n in range(3)]
    path = write_csv(tmp_path / "cut.csv", rows)
    path.write_bytes(path.read_bytes()[:-10])
    before = Person.objects.count()
    with pytest.raises(ImportRejected) as refused:
        import_residents_changes(path=path, actor=None, progress=False)
    assert "途中で切れたファイルの可能性" in str(refused.value)
    assert Person.objects.count() == before

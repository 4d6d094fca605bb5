"""レセプトの取込 (`kokuho import claims`): validation per field, the ledger, matching to
insured persons — unmatched claims kept and reported, never dropped — and the batch path
writing exactly what the row-by-row path writes."""

import datetime as dt
import io
import random

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.models import Claim, ClaimKind, ClaimMatch, ClaimSetting
from kokuho.benefits.selectors import claims_unmatched, claims_unmatched_counts
from kokuho.core.purposes import Purpose
from kokuho.interfaces import claims, importer
from kokuho.interfaces.importer import file_import
from kokuho.interfaces.jobs import import_job_execute, import_job_submit
from kokuho.interfaces.models import (
    ImportedRecord,
    ImportErrorCode,
    ImportFile,
    ImportJobStatus,
    ImportKind,
    QuarantinedRow,
)
from kokuho.interfaces.services import import_claims, quarantine_resubmit
from kokuho.interfaces.tests.support import CLAIMS_HEADER, claim, write_csv
from kokuho.interfaces.tests.worker import upload
from kokuho.testing import make_insured, make_staff

pytestmark = pytest.mark.django_db

OCTOBER = dt.date(2026, 10, 1)
RECEIVED = dt.date(2026, 11, 10)


def _import(path, **kwargs):
    return import_claims(path=path, actor=None, reported_on=RECEIVED, **kwargs)


def _write(tmp_path, rows, name="claims-202610.csv", **kwargs):
    return write_csv(tmp_path / name, rows, header=CLAIMS_HEADER, **kwargs)


@pytest.fixture
def city():
    """Insured all October; moved out in mid-October (insured part of the month); moved out
    before October (資格喪失後受診); moved in after October (no eligibility that month)."""
    insured = make_insured(moved_in=dt.date(2020, 4, 1))
    return {
        "insured": insured,
        "left_mid_month": make_insured(moved_out=dt.date(2026, 10, 15)),
        "left_before": make_insured(moved_out=dt.date(2026, 9, 30)),
        "arrived_after": make_insured(moved_in=dt.date(2026, 11, 5)),
        # Same household as `insured`: same 記号・番号, the next 枝番.
        "spouse": make_insured(household_no=insured.household.household_no, relation="妻"),
    }


def test_it_stores_each_claim_with_its_match_and_reports_the_unmatched(tmp_path, city):
    insured = city["insured"]
    known_number = claim("C6", insured) | {"branch": "09"}  # 記号・番号 known, 枝番 not
    path = _write(
        tmp_path,
        [
            claim("C1", insured, points="12345", copay="37040"),
            claim("C2", city["left_mid_month"]),
            claim("C3", city["left_before"]),
            claim("C4", city["arrived_after"]),
            claim("C5"),  # a number nobody holds
            known_number,
            claim(
                "C7",
                city["spouse"],
                kind="4",
                prescribed_by="3810000001",
                points="800",
                copay="2400",
            ),
        ],
    )

    summary = _import(path)

    assert (summary.read, summary.applied, summary.quarantined_total) == (7, 7, 0)
    assert summary.reported == {"番号不明": 2, "資格喪失後受診・資格なし": 2}
    text = summary.format()
    assert "照合できなかったレセプト 4 件（反映済み。保留ではありません）" in text
    assert "番号不明: 2 件" in text
    by_id = {c.claim_id: c for c in Claim.objects.select_related("person", "household_number")}
    assert len(by_id) == 7
    assert {cid: c.match for cid, c in by_id.items()} == {
        "C1": ClaimMatch.MATCHED,
        "C2": ClaimMatch.MATCHED,
        "C3": ClaimMatch.NOT_INSURED,
        "C4": ClaimMatch.NOT_INSURED,
        "C5": ClaimMatch.UNKNOWN_NUMBER,
        "C6": ClaimMatch.UNKNOWN_NUMBER,
        "C7": ClaimMatch.MATCHED,
    }
    first = by_id["C1"]
    assert first.person == insured and first.household_number == insured.household.nhi_number
    assert first.service_month == OCTOBER
    assert (first.points, first.copay, first.setting, first.kind) == (
        12345,
        37040,
        ClaimSetting.OUTPATIENT,
        ClaimKind.MEDICAL,
    )
    assert first.import_file_id == summary.import_file_id
    assert by_id["C3"].person == city["left_before"]
    assert by_id["C5"].person is None and by_id["C5"].household_number is None
    assert by_id["C6"].person is None
    assert by_id["C6"].household_number == insured.household.nhi_number
    assert by_id["C7"].person == city["spouse"]
    assert by_id["C7"].prescribed_by == "3810000001"
    # The list staff work through, and the counts the file's ledger row keeps.
    assert [c.claim_id for c in claims_unmatched(month=dt.date(2026, 10, 20))] == [
        "C3",
        "C4",
        "C5",
        "C6",
    ]
    assert claims_unmatched_counts(month=OCTOBER) == {
        ClaimMatch.NOT_INSURED: 2,
        ClaimMatch.UNKNOWN_NUMBER: 2,
    }
    counts = ImportFile.objects.get(pk=summary.import_file_id).counts
    assert counts["reported_by_reason"] == {"番号不明": 2, "資格喪失後受診・資格なし": 2}
    event = AuditEvent.objects.filter(event_type=EventType.FILE_IMPORTED).get()
    assert event.purpose == Purpose.NHI_BENEFITS
    assert event.extra["import_file"]["counts"]["reported"] == 4


def test_it_accepts_hand_typed_months_branches_and_full_width_digits(tmp_path, city):
    row = claim("H1", city["insured"], month="2026-10")
    row["branch"] = row["branch"].lstrip("0")  # "1" is 枝番 01
    row["points"] = "１０００"
    path = _write(tmp_path, [row])
    summary = _import(path)
    assert summary.applied == 1
    stored = Claim.objects.get()
    assert (stored.service_month, stored.branch, stored.points) == (OCTOBER, "01", 1000)
    assert stored.match == ClaimMatch.MATCHED


INVALID = [
    # (changes to a valid row, field, code, words of the reason)
    ({"claim_id": ""}, "claim_id", ImportErrorCode.REQUIRED, "入力されていません"),
    ({"service_month": "202613"}, "service_month", ImportErrorCode.INVALID_DATE, "YYYYMM"),
    ({"service_month": "2026/1"}, "service_month", ImportErrorCode.INVALID_DATE, "YYYYMM"),
    ({"service_month": "令和8年"}, "service_month", ImportErrorCode.INVALID_DATE, "YYYYMM"),
    ({"insurer_no": "12345678"}, "insurer_no", ImportErrorCode.OTHER_INSURER, "他保険者"),
    ({"insurer_no": "12-45"}, "insurer_no", ImportErrorCode.INVALID_VALUE, "数字"),
    ({"symbol": ""}, "symbol", ImportErrorCode.REQUIRED, "記号"),
    ({"number": "1" * 21}, "number", ImportErrorCode.TOO_LONG, "20 文字以内"),
    ({"branch": "123"}, "branch", ImportErrorCode.TOO_LONG, "2 桁以内"),
    ({"branch": "a"}, "branch", ImportErrorCode.INVALID_VALUE, "数字"),
    ({"provider": "38100001"}, "provider", ImportErrorCode.INVALID_VALUE, "10 桁"),
    ({"provider": "38100000X1"}, "provider", ImportErrorCode.INVALID_VALUE, "10 桁"),
    ({"provider": "4810000001"}, "provider", ImportErrorCode.INVALID_VALUE, "都道府県番号"),
    ({"provider": "3820000001"}, "provider", ImportErrorCode.INVALID_CODE, "点数表番号"),
    ({"setting": "3"}, "setting", ImportErrorCode.INVALID_CODE, "1, 2 のいずれか"),
    ({"kind": "2"}, "kind", ImportErrorCode.INVALID_CODE, "1, 3, 4, 5 のいずれか"),
    ({"kind": "4"}, "prescribed_by", ImportErrorCode.REQUIRED, "処方元医療機関コード"),
    (
        {"kind": "4", "prescribed_by": "3840000001"},
        "prescribed_by",
        ImportErrorCode.INVALID_CODE,
        "点数表番号",
    ),
    ({"kind": "4", "prescribed_by": "381"}, "prescribed_by", ImportErrorCode.INVALID_VALUE, "10"),
    ({"prescribed_by": "3810000002"}, "prescribed_by", ImportErrorCode.INVALID_VALUE, "調剤"),
    (
        {"kind": "4", "prescribed_by": "3810000002", "setting": "1"},
        "setting",
        ImportErrorCode.INVALID_CODE,
        "調剤のレセプトは入院外",
    ),
    ({"kind": "5", "setting": "1"}, "setting", ImportErrorCode.INVALID_CODE, "訪問看護"),
    ({"points": "-5"}, "points", ImportErrorCode.INVALID_NUMBER, "0 以上の整数"),
    ({"points": "1.5"}, "points", ImportErrorCode.INVALID_NUMBER, "0 以上の整数"),
    ({"points": "123456789"}, "points", ImportErrorCode.TOO_LONG, "8 桁以内"),
    ({"copay": "abc"}, "copay", ImportErrorCode.INVALID_NUMBER, "0 以上の整数"),
    ({"copay": "10001"}, "copay", ImportErrorCode.INVALID_VALUE, "総医療費"),
    ({"public_payer": "5413"}, "public_payer", ImportErrorCode.INVALID_VALUE, "8 桁"),
    ({"specific_disease": "2"}, "specific_disease", ImportErrorCode.INVALID_CODE, "0, 1"),
    ({"limit_applied": "y"}, "limit_applied", ImportErrorCode.INVALID_CODE, "0, 1"),
    ({"service_month": "202612"}, "service_month", ImportErrorCode.INVALID_DATE, "受付日"),
]


@pytest.mark.parametrize(
    ("changes", "field", "code", "words"), INVALID, ids=[f"{i[1]}-{i[2]}" for i in INVALID]
)
@pytest.mark.parametrize("batch", [True, False], ids=["batch", "row"])
def test_an_invalid_row_is_quarantined_with_its_field_and_reason(
    tmp_path, city, changes, field, code, words, batch
):
    good = claim("G1", city["insured"])
    bad = claim("B1", city["insured"]) | changes
    path = _write(tmp_path, [good, bad])

    summary = file_import(
        claims.IMPORTER, path=path, actor=None, progress=False, reported_on=RECEIVED, batch=batch
    )

    assert (summary.applied, summary.quarantined_total) == (1, 1)
    assert list(Claim.objects.values_list("claim_id", flat=True)) == ["G1"]
    row = QuarantinedRow.objects.get()
    assert (row.line, row.field, row.code) == (3, field, code)
    assert words in row.reason
    assert row.value == bad.get(field, "")
    assert row.raw == bad
    assert summary.quarantined == {f"{code.label}（{field}）": 1}


def test_another_insurers_claim_is_quarantined_not_stored(tmp_path, city, settings):
    settings.KOKUHO_INSURER_NUMBER = "389999"
    path = _write(tmp_path, [claim("X1", city["insured"], insurer_no="380014")])
    summary = _import(path)
    assert summary.applied == 0 and not Claim.objects.exists()
    assert summary.quarantined == {"他保険者の番号（insurer_no）": 1}
    row = QuarantinedRow.objects.get()
    assert row.reason == "他保険者のレセプトです（保険者番号 380014。当保険者の番号は 389999）"
    assert summary.reported == {}


def test_running_the_same_file_again_changes_nothing(tmp_path, city):
    rows = [claim("R1", city["insured"]), claim("R2"), claim("R3", copay="999999")]
    path = _write(tmp_path, rows)
    first = _import(path)
    stored = list(Claim.objects.order_by("pk").values())

    again = _import(path)

    assert (first.applied, first.quarantined_total) == (2, 1)
    assert (again.read, again.applied, again.skipped, again.quarantined_total) == (3, 0, 3, 0)
    assert again.same_content_as == [first.import_file_id]
    assert again.reported == {}  # nothing of this run is unmatched: it stored nothing
    assert list(Claim.objects.order_by("pk").values()) == stored
    assert QuarantinedRow.objects.count() == 1
    assert ImportedRecord.objects.filter(kind=ImportKind.CLAIMS).count() == 2


def test_a_changed_claim_under_a_known_id_is_a_conflict(tmp_path, city):
    _import(_write(tmp_path, [claim("K1", city["insured"])]))
    changed = claim("K1", city["insured"], points="2000", copay="6000")

    summary = _import(_write(tmp_path, [changed], name="claims-202610-2.csv"))

    assert (summary.applied, summary.quarantined_total) == (0, 1)
    row = QuarantinedRow.objects.get()
    assert (row.field, row.code) == ("claim_id", ImportErrorCode.CONFLICT)
    assert row.reason == "同じレセプト管理番号で内容が異なります（競合）"
    assert Claim.objects.get().points == 1000


def test_a_cp932_file_is_read_and_matched(tmp_path, city):
    row = claim("S1", city["insured"])
    # Typed by hand in a spreadsheet: full-width digits, and a note column of its own.
    row["symbol"] = row["symbol"].translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    row["備考"] = "外来（再診）"
    path = write_csv(
        tmp_path / "claims.csv", [row], header=[*CLAIMS_HEADER, "備考"], encoding="cp932"
    )
    summary = _import(path)
    assert summary.encoding == "CP932"
    assert summary.applied == 1
    stored = Claim.objects.get()
    assert stored.symbol == city["insured"].household.nhi_number.symbol
    assert stored.match == ClaimMatch.MATCHED


def test_a_corrected_row_is_stored_with_its_file(tmp_path, city):
    clerk = make_staff(role=Role.ELIGIBILITY)
    summary = _import(_write(tmp_path, [claim("Q1", city["insured"], provider="381")]))
    row = QuarantinedRow.objects.get()

    outcome = quarantine_resubmit(
        row=row, corrected={"provider": "3810000009"}, actor=clerk, reported_on=RECEIVED
    )

    assert outcome.applied
    stored = Claim.objects.get()
    assert (stored.provider, stored.match) == ("3810000009", ClaimMatch.MATCHED)
    assert stored.import_file_id == summary.import_file_id
    resolved = AuditEvent.objects.filter(event_type=EventType.QUARANTINE_RESOLVED).get()
    assert resolved.purpose == Purpose.NHI_BENEFITS


def test_the_command_imports_claims_and_prints_the_unmatched(tmp_path, city):
    path = _write(tmp_path, [claim("M1", city["insured"]), claim("M2")])
    out = io.StringIO()
    call_command(
        "import", "claims", str(path), "--no-progress", "--reported-on", "R8.11.10", stdout=out
    )
    text = out.getvalue()
    assert "レセプトの取込結果: claims-202610.csv" in text
    assert "照合できなかったレセプト 1 件" in text
    assert "番号不明: 1 件" in text
    assert Claim.objects.count() == 2


def test_an_uploaded_claims_file_is_run_as_claims(tmp_path, settings, city):
    settings.KOKUHO_UPLOAD_DIR = tmp_path / "uploads"
    clerk = make_staff(role=Role.ELIGIBILITY)
    rows = [claim("U1", city["insured"]), claim("U2")]
    sent = upload(rows, name="claims.csv", header=CLAIMS_HEADER)
    job = import_job_submit(kind=ImportKind.CLAIMS, upload=sent, actor=clerk)

    assert import_job_execute(job_id=job.pk) == ImportJobStatus.DONE

    job.refresh_from_db()
    assert job.import_file.kind == ImportKind.CLAIMS
    assert job.counts["reported_by_reason"] == {"番号不明": 1}
    assert Claim.objects.count() == 2


# --- the batch path writes what the row path writes -------------------------------------


def _generate(seed: int, people: list, rows: int) -> list[dict[str, str]]:
    """Claims of every kind and match, invalid rows of several kinds, and repeated and
    conflicting claim ids."""
    rng = random.Random(seed)
    out: list[dict[str, str]] = []
    for i in range(rows):
        who = rng.choice([*people, None])
        choice = rng.random()
        row = claim(f"E{seed}-{i:04d}", who, month=rng.choice(["202609", "202610", "2026-10"]))
        points = rng.randint(100, 150_000)
        row |= {"points": str(points), "copay": str(points * 3 // 10 * 10)}
        if choice < 0.15:
            row |= {"kind": "4", "prescribed_by": "3810000001"}
        elif choice < 0.2:
            row |= {"kind": "3", "provider": "3830000001"}
        elif choice < 0.25:
            row |= {"setting": "1", "limit_applied": "1"}
        elif choice < 0.3:
            row["branch"] = "07"
        elif choice < 0.33:
            row["provider"] = "12345"
        elif choice < 0.36:
            row["copay"] = str(points * 11)
        elif choice < 0.38:
            row["insurer_no"] = "380014"
        elif choice < 0.40:
            row["service_month"] = "202701"
        elif choice < 0.43 and out:
            repeated = dict(rng.choice(out))
            if rng.random() < 0.5:
                repeated["copay"] = "0"  # same id, other content: a conflict
            out.append(repeated)
            continue
        out.append(row)
    return out


def _dump():
    claims_written = sorted(
        Claim.objects.values_list(
            "claim_id",
            "service_month",
            "insurer_no",
            "symbol",
            "number",
            "branch",
            "provider",
            "setting",
            "kind",
            "prescribed_by",
            "points",
            "copay",
            "public_payer",
            "specific_disease",
            "limit_applied",
            "person__atena_no",
            "household_number__number",
            "match",
        )
    )
    return {
        "claims": claims_written,
        "ledger": sorted(ImportedRecord.objects.values_list("record_id", "row_sha256", "line")),
        "quarantine": sorted(
            QuarantinedRow.objects.values_list(
                "line", "record_id", "field", "value", "code", "reason"
            )
        ),
    }


def _run(path, *, batch):
    with CaptureQueriesContext(connection) as queries:
        summary = file_import(
            claims.IMPORTER,
            path=path,
            actor=None,
            progress=False,
            reported_on=RECEIVED,
            batch=batch,
        )
    return _dump(), summary.counts(), len(queries)


@pytest.mark.parametrize("seed", [1, 2])
def test_batches_write_what_row_by_row_writes(tmp_path, monkeypatch, city, seed):
    monkeypatch.setattr(importer, "LEDGER_WINDOW", 37)  # batches see earlier batches' rows
    rows = _generate(seed, list(city.values()), 300)
    path = _write(tmp_path, rows)

    with transaction.atomic():
        by_row, by_row_counts, by_row_queries = _run(path, batch=False)
        transaction.set_rollback(True)
    batched, batched_counts, batched_queries = _run(path, batch=True)

    assert batched_counts["batches_redone"] == 0
    assert batched_counts == by_row_counts
    assert by_row_counts["applied"] > 150 and by_row_counts["quarantined"] > 20
    assert set(by_row_counts["reported_by_reason"]) == {"番号不明", "資格喪失後受診・資格なし"}
    for key in by_row:
        assert batched[key] == by_row[key], key
    matches = {c[-1] for c in batched["claims"]}
    assert matches == {m.value for m in ClaimMatch}
    # A fixed number of statements per batch (ledger, three look-ups, one insert), not
    # some per row as row by row.
    batches = -(-len(rows) // 37)
    assert batched_queries <= 12 * batches + 20
    assert by_row_queries > 3 * batched_queries


def test_a_batch_refused_by_the_database_is_redone_row_by_row(tmp_path, city):
    """A claim id stored without a ledger entry (e.g. the ledger row was lost) makes the
    insert fail: the batch is redone a row at a time and only that row is quarantined."""
    _import(_write(tmp_path, [claim("D1", city["insured"])]))
    ImportedRecord.objects.filter(record_id="D1").delete()
    path = _write(tmp_path, [claim("D0", city["insured"]), claim("D1", city["insured"])], "b.csv")

    summary = _import(path)

    assert summary.batches_redone == 1
    assert (summary.applied, summary.quarantined_total) == (1, 1)
    row = QuarantinedRow.objects.get()
    assert (row.record_id, row.field, row.code) == ("D1", "claim_id", ImportErrorCode.CONFLICT)
    assert "既に登録されています" in row.reason
    assert Claim.objects.count() == 2

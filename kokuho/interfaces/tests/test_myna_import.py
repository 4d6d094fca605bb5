"""マイナ保険証の利用登録状況の取込 (`kokuho import myna-status`): statuses written per person
through 記号・番号・枝番, an older 基準日 never over a newer one, bad rows quarantined with
field and reason, a re-run a no-op, one audit event per file."""

import datetime as dt
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType, SubjectType
from kokuho.certificates.models import MynaRegistration, MynaStatus
from kokuho.eligibility.models import BranchNumber
from kokuho.interfaces import importer, myna
from kokuho.interfaces.importer import file_import
from kokuho.interfaces.jobs import import_job_execute, import_job_submit
from kokuho.interfaces.models import (
    ImportedRecord,
    ImportErrorCode,
    ImportJobStatus,
    ImportKind,
    QuarantinedRow,
)
from kokuho.interfaces.services import import_myna_status, quarantine_resubmit
from kokuho.interfaces.tests.support import write_csv
from kokuho.interfaces.tests.worker import upload
from kokuho.testing import make_insured, make_staff

pytestmark = pytest.mark.django_db

HEADER = list(myna.LAYOUT.names)
RECEIVED = dt.date(2026, 11, 10)
SEPT = dt.date(2026, 9, 1)
OCT = dt.date(2026, 10, 1)


def row(record_id: str, person=None, status: str = "1", as_of: str = "2026-11-01", **fields):
    """A status row for the person's newest 記号・番号・枝番 (or a number nobody holds)."""
    number = (
        BranchNumber.objects.filter(person=person)
        .select_related("household_number")
        .order_by("-assigned_on", "-id")
        .first()
        if person is not None
        else None
    )
    return {
        "record_id": record_id,
        "insurer_no": settings.KOKUHO_INSURER_NUMBER,
        "symbol": number.household_number.symbol if number else "99",
        "number": number.household_number.number if number else "999999",
        "branch": number.branch if number else "01",
        "status": status,
        "as_of": as_of,
    } | fields


def _write(tmp_path, rows, name="myna-status.csv"):
    return write_csv(tmp_path / name, rows, header=HEADER)


def _import(path, **kwargs):
    return import_myna_status(path=path, actor=None, reported_on=RECEIVED, **kwargs)


def _state(person) -> tuple[str, dt.date, dt.date | None] | None:
    reg = MynaRegistration.objects.filter(person=person).first()
    return (reg.status, reg.status_as_of, reg.kakuninsho_requested_on) if reg else None


def _stored(person, status: MynaStatus, as_of: dt.date, requested: dt.date | None = None):
    MynaRegistration.objects.create(
        person=person, status=status, status_as_of=as_of, kakuninsho_requested_on=requested
    )


@pytest.fixture
def people():
    head = make_insured()
    return {
        "new": head,
        "registered": make_insured(),
        "expired": make_insured(),
        # Same household as `new`: same 記号・番号, the next 枝番.
        "spouse": make_insured(household_no=head.household.household_no, relation="妻"),
    }


def test_it_records_new_and_changed_statuses_and_leaves_the_request_alone(tmp_path, people):
    _stored(people["registered"], MynaStatus.REGISTERED, SEPT)
    _stored(people["expired"], MynaStatus.CARD_EXPIRED, SEPT, requested=dt.date(2026, 9, 15))
    path = _write(
        tmp_path,
        [
            row("M1", people["new"], "1", "2026-11-01"),
            row("M2", people["registered"], "2", "20261101"),
            row("M3", people["expired"], "1", "2026-11-01"),
            row("M4", people["spouse"], "0", "2026-11-01"),
        ],
    )
    summary = _import(path)
    assert (summary.read, summary.applied, summary.quarantined_total) == (4, 4, 0)
    day = dt.date(2026, 11, 1)
    assert _state(people["new"]) == (MynaStatus.REGISTERED, day, None)
    assert _state(people["registered"]) == (MynaStatus.CANCELLED, day, None)
    assert _state(people["expired"]) == (MynaStatus.REGISTERED, day, dt.date(2026, 9, 15))
    assert _state(people["spouse"]) == (MynaStatus.UNREGISTERED, day, None)
    assert ImportedRecord.objects.filter(kind=ImportKind.MYNA_STATUS).count() == 4


def test_a_second_run_of_the_same_file_changes_nothing(tmp_path, people):
    path = _write(tmp_path, [row("M1", people["new"], "1"), row("M2", people["registered"], "3")])
    _import(path)
    # Changed at the counter since: the re-run must not put the file's state back.
    MynaRegistration.objects.filter(person=people["new"]).update(
        status=MynaStatus.CANCELLED, status_as_of=dt.date(2026, 11, 5)
    )
    again = _import(path)
    assert (again.read, again.skipped, again.applied, again.quarantined_total) == (2, 2, 0, 0)
    assert _state(people["new"]) == (MynaStatus.CANCELLED, dt.date(2026, 11, 5), None)
    assert "同じ内容のファイルを取込済みです" in again.format()


def test_a_changed_record_under_a_known_id_is_a_conflict(tmp_path, people):
    _import(_write(tmp_path, [row("M1", people["new"], "1")]))
    summary = _import(_write(tmp_path, [row("M1", people["new"], "2")], name="again.csv"))
    assert summary.quarantined == {"レコードIDの競合（record_id）": 1}
    assert _state(people["new"])[0] == MynaStatus.REGISTERED


@pytest.mark.parametrize(
    ("fields", "field", "code", "reason"),
    [
        ({"status": "9"}, "status", ImportErrorCode.INVALID_CODE, "利用登録状況: '9' は使えない値"),
        ({"status": ""}, "status", ImportErrorCode.REQUIRED, "利用登録状況（status）が入力"),
        ({"as_of": "2026-13-01"}, "as_of", ImportErrorCode.INVALID_DATE, "基準日: "),
        (
            {"as_of": "2026-11-11"},
            "as_of",
            ImportErrorCode.INVALID_DATE,
            "基準日 2026-11-11 は受付日（2026-11-10）より後の日付です",
        ),
        ({"branch": "123"}, "branch", ImportErrorCode.TOO_LONG, "枝番: 2 桁以内"),
        ({"branch": "ab"}, "branch", ImportErrorCode.INVALID_VALUE, "枝番: 数字で入力"),
        (
            {"insurer_no": "380014"},
            "insurer_no",
            ImportErrorCode.OTHER_INSURER,
            "他保険者の被保険者です（保険者番号 380014。当保険者の番号は 389999）",
        ),
        ({"insurer_no": "3899"}, "insurer_no", ImportErrorCode.INVALID_VALUE, "6 桁の数字"),
        (
            {"symbol": "99", "number": "999999"},
            "number",
            ImportErrorCode.UNKNOWN_NUMBER,
            "番号不明: 記号 99・番号 999999・枝番 01（この記号・番号の世帯がありません）",
        ),
        ({"branch": "09"}, "branch", ImportErrorCode.UNKNOWN_NUMBER, "番号不明: "),
    ],
)
def test_a_bad_row_is_quarantined_with_its_field_and_reason_and_the_rest_applied(
    tmp_path, people, settings, fields, field, code, reason
):
    settings.KOKUHO_INSURER_NUMBER = "389999"
    path = _write(tmp_path, [row("M1", people["new"]), row("M2", people["registered"], **fields)])
    summary = _import(path)
    assert (summary.applied, summary.quarantined_total) == (1, 1)
    bad = QuarantinedRow.objects.get()
    assert (bad.kind, bad.line, bad.record_id, bad.field, bad.code) == (
        ImportKind.MYNA_STATUS,
        3,
        "M2",
        field,
        code,
    )
    assert reason in bad.reason
    assert bad.file.file_name == "myna-status.csv"
    assert _state(people["registered"]) is None
    assert _state(people["new"])[0] == MynaStatus.REGISTERED


def test_an_older_as_of_never_overwrites_a_newer_one_and_is_not_quarantined(tmp_path, people):
    _stored(people["registered"], MynaStatus.CANCELLED, OCT)
    path = _write(
        tmp_path,
        [
            row("M1", people["registered"], "1", "2026-09-01"),
            # Two rows for one person: the later 基準日 wins, whatever the order.
            row("M2", people["new"], "2", "2026-11-02"),
            row("M3", people["new"], "1", "2026-11-01"),
        ],
    )
    summary = _import(path)
    assert (summary.applied, summary.quarantined_total) == (3, 0)
    assert summary.reported == {myna.OLDER_REASON: 2}
    assert _state(people["registered"]) == (MynaStatus.CANCELLED, OCT, None)
    assert _state(people["new"]) == (MynaStatus.CANCELLED, dt.date(2026, 11, 2), None)
    assert f"{myna.OLDER_REASON}: 2 件" in summary.format()


def test_the_same_as_of_takes_the_file_and_a_newer_one_confirms_the_status(tmp_path, people):
    _stored(people["registered"], MynaStatus.REGISTERED, OCT)
    _stored(people["expired"], MynaStatus.REGISTERED, OCT)
    path = _write(
        tmp_path,
        [
            row("M1", people["registered"], "3", "2026-10-01"),
            row("M2", people["expired"], "1", "2026-11-01"),
        ],
    )
    _import(path)
    assert _state(people["registered"]) == (MynaStatus.CARD_EXPIRED, OCT, None)
    assert _state(people["expired"]) == (MynaStatus.REGISTERED, dt.date(2026, 11, 1), None)


def test_one_audit_event_for_the_file_with_its_counts(tmp_path, people):
    _stored(people["registered"], MynaStatus.REGISTERED, SEPT)
    _stored(people["expired"], MynaStatus.REGISTERED, dt.date(2026, 11, 5))
    path = _write(
        tmp_path,
        [
            row("M1", people["new"], "1"),
            row("M2", people["registered"], "2"),
            row("M3", people["expired"], "0"),  # older than what is recorded
            row("M4"),  # unknown number: quarantined, not counted
        ],
    )
    summary = _import(path)
    events = AuditEvent.objects.filter(event_type=EventType.MYNA_STATUS_CHANGED)
    assert events.count() == 1
    event = events.get()
    assert (event.subject_type, event.subject_id) == (
        SubjectType.SYSTEM,
        f"import_file:{summary.import_file_id}",
    )
    assert event.extra["counts"] == {
        "changed": 1,
        "created": 1,
        "older": 1,
        "registered_to_cancelled": 1,
        "to_cancelled": 1,
        "to_registered": 1,
    }
    assert not AuditEvent.objects.filter(
        event_type=EventType.MYNA_STATUS_CHANGED, subject_type=SubjectType.PERSON
    ).exists()
    assert AuditEvent.objects.filter(
        event_type=EventType.FILE_IMPORTED, subject_id=f"import_file:{summary.import_file_id}"
    ).exists()


def test_row_by_row_writes_what_the_batch_writes(tmp_path, people):
    _stored(people["registered"], MynaStatus.CANCELLED, OCT)
    rows = [
        row("M1", people["new"], "1"),
        row("M2", people["registered"], "1", "2026-09-01"),
        row("M3", people["spouse"], "3"),
        row("M4"),
    ]
    batched = _import(_write(tmp_path, rows))
    after_batch = {p.pk: _state(p) for p in people.values()}
    MynaRegistration.objects.exclude(person=people["registered"]).delete()
    ImportedRecord.objects.filter(kind=ImportKind.MYNA_STATUS).delete()
    QuarantinedRow.objects.filter(kind=ImportKind.MYNA_STATUS).delete()
    single = file_import(
        myna.IMPORTER,
        path=_write(tmp_path, rows, name="single.csv"),
        actor=None,
        progress=False,
        reported_on=RECEIVED,
        batch=False,
    )
    assert {p.pk: _state(p) for p in people.values()} == after_batch
    assert single.counts() | {"batches_redone": 0} == batched.counts()


def test_a_chunk_takes_the_same_queries_whatever_its_size(tmp_path):
    persons = [make_insured() for _ in range(12)]
    for person in persons[:6]:
        _stored(person, MynaStatus.REGISTERED, SEPT)

    def queries(name, chosen):
        path = _write(tmp_path, [row(f"{name}{i}", p, "2") for i, p in enumerate(chosen)], name)
        with CaptureQueriesContext(connection) as captured:
            _import(path)
        return len(captured)

    small = queries("a.csv", [persons[0], persons[6]])
    large = queries("b.csv", [*persons[1:6], *persons[7:]])
    assert small == large


def test_a_corrected_row_is_applied_on_resubmission(tmp_path, people):
    path = _write(tmp_path, [row("M1", people["new"], "7")])
    _import(path)
    bad = QuarantinedRow.objects.get()
    outcome = quarantine_resubmit(
        row=bad, corrected={"status": "2"}, actor=None, reported_on=RECEIVED
    )
    assert outcome.applied
    assert _state(people["new"])[0] == MynaStatus.CANCELLED


def test_the_command_prints_the_summary_in_japanese(tmp_path, people):
    _stored(people["registered"], MynaStatus.CANCELLED, OCT)
    path = _write(
        tmp_path,
        [
            row("M1", people["new"], "1"),
            row("M2", people["registered"], "1", "2026-09-01"),
            row("M3", status="1"),
        ],
    )
    out = io.StringIO()
    call_command(
        "import", "myna-status", str(path), "--no-progress", "--reported-on", "R8.11.10", stdout=out
    )
    text = out.getvalue()
    assert "マイナ保険証の利用登録状況の取込結果: myna-status.csv（文字コード UTF-8" in text
    assert "読込          3 件" in text
    assert "反映          2 件" in text
    assert "保留          1 件" in text
    assert "番号不明（number）: 1 件" in text
    assert "より新しい状況が登録済みの行 1 件" in text


def test_it_can_be_uploaded_on_screen_by_the_eligibility_clerk(tmp_path, people):
    clerk = make_staff(role=Role.ELIGIBILITY)
    sent = upload([row("M1", people["new"], "1", "2026-01-05")], name="myna.csv", header=HEADER)
    job = import_job_submit(kind=ImportKind.MYNA_STATUS, upload=sent, actor=clerk)
    assert import_job_execute(job_id=job.pk) == ImportJobStatus.DONE
    job.refresh_from_db()
    assert job.import_file.kind == ImportKind.MYNA_STATUS
    assert _state(people["new"])[0] == MynaStatus.REGISTERED


def test_the_ledger_window_splits_chunks_without_losing_the_tally(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "LEDGER_WINDOW", 2)
    persons = [make_insured() for _ in range(5)]
    summary = _import(_write(tmp_path, [row(f"M{i}", p, "1") for i, p in enumerate(persons)]))
    event = AuditEvent.objects.get(event_type=EventType.MYNA_STATUS_CHANGED)
    assert summary.applied == 5
    assert event.extra["counts"] == {"created": 5, "to_registered": 5}

"""Chunked commits: the ledger holds across chunk boundaries, and a crash can be resumed."""

import dataclasses

import pytest

from kokuho.interfaces import importer, residents_changes
from kokuho.interfaces.importer import file_import
from kokuho.interfaces.models import ImportedRecord, ImportFile, QuarantinedRow
from kokuho.interfaces.tests.support import change, write_csv
from kokuho.people.models import Person

CONFLICT_REASON = "同じ異動連番で内容が異なります（競合）"
pytestmark = pytest.mark.django_db


@pytest.fixture
def one_row_chunks(monkeypatch):
    monkeypatch.setattr(importer, "LEDGER_WINDOW", 1)
    monkeypatch.setattr(importer, "COMMIT_SECONDS", 0)


def test_duplicates_are_caught_across_ledger_windows(tmp_path, one_row_chunks):
    rows = [
        change("1", "A01", "2026-04-01", "101", "501"),
        change("1", "A01", "2026-04-01", "101", "501"),
        change("1", "A01", "2026-04-09", "101", "501"),
    ]
    path = write_csv(tmp_path / "r.csv", rows)
    summary = file_import(residents_changes.IMPORTER, path=path, actor=None, progress=False)
    assert (summary.applied, summary.skipped, summary.quarantined_total) == (1, 1, 1)
    assert QuarantinedRow.objects.get().reason == CONFLICT_REASON


@pytest.mark.parametrize("batched", [False, True], ids=["row_by_row", "batched"])
def test_a_crash_keeps_the_committed_rows_and_a_rerun_resumes(tmp_path, one_row_chunks, batched):
    rows = [change(str(i), "A01", "2026-04-01", str(100 + i), str(500 + i)) for i in range(1, 5)]
    path = write_csv(tmp_path / "r.csv", rows)

    def crash_on_the_third(record, ctx):
        if record["record_id"] == "3":
            raise RuntimeError("disk full")
        residents_changes.change_apply(record, ctx)

    def batch_crash_on_the_third(records):
        if any(record["record_id"] == "3" for record, _ctx in records):
            raise RuntimeError("disk full")
        return residents_changes.change_apply_batch(records)

    crashing = dataclasses.replace(
        residents_changes.IMPORTER,
        apply=crash_on_the_third,
        apply_batch=batch_crash_on_the_third if batched else None,
    )
    with pytest.raises(RuntimeError):
        file_import(crashing, path=path, actor=None, progress=False)
    assert set(ImportedRecord.objects.values_list("record_id", flat=True)) == {"1", "2"}
    aborted = ImportFile.objects.get()
    assert aborted.finished_at is None and aborted.counts["aborted"] == "RuntimeError: disk full"
    # The failed batch was redone row by row before the crash stopped the run.
    assert aborted.counts["batches_redone"] == (1 if batched else 0)

    summary = file_import(residents_changes.IMPORTER, path=path, actor=None, progress=False)
    assert (summary.applied, summary.skipped) == (2, 2)
    assert Person.objects.count() == 4


def test_a_batch_that_fails_is_redone_row_by_row_with_the_same_outcome(tmp_path):
    rows = [
        change("1", "A01", "2026-04-01", "101", "501"),
        change("2", "B01", "2026-04-05", "999", "501"),  # unknown resident → quarantined
        change(
            "3",
            "C01",
            "2026-04-06",
            "101",
            "501",
            relation="世帯主",
            postal_code="799-0002",
            address="みかん市新町2-2",
        ),
    ]
    path = write_csv(tmp_path / "r.csv", rows)

    def failing_batch(records):
        raise RuntimeError("lost connection")

    flaky = dataclasses.replace(residents_changes.IMPORTER, apply_batch=failing_batch)
    summary = file_import(flaky, path=path, actor=None, progress=False)
    assert (summary.applied, summary.quarantined_total, summary.batches_redone) == (2, 1, 1)
    assert QuarantinedRow.objects.get().line == 3

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


def test_a_crash_keeps_the_committed_rows_and_a_rerun_resumes(tmp_path, one_row_chunks):
    rows = [change(str(i), "A01", "2026-04-01", str(100 + i), str(500 + i)) for i in range(1, 5)]
    path = write_csv(tmp_path / "r.csv", rows)

    def crash_on_the_third(record, ctx):
        if record["record_id"] == "3":
            raise RuntimeError("disk full")
        residents_changes.change_apply(record, ctx)

    crashing = dataclasses.replace(residents_changes.IMPORTER, apply=crash_on_the_third)
    with pytest.raises(RuntimeError):
        file_import(crashing, path=path, actor=None, progress=False)
    assert set(ImportedRecord.objects.values_list("record_id", flat=True)) == {"1", "2"}
    aborted = ImportFile.objects.get()
    assert aborted.finished_at is None and aborted.counts["aborted"] == "RuntimeError: disk full"

    summary = file_import(residents_changes.IMPORTER, path=path, actor=None, progress=False)
    assert (summary.applied, summary.skipped) == (2, 2)
    assert Person.objects.count() == 4

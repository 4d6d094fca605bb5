"""中断した取込: a run whose process died is shown as 中断 and continued by the next run of
the same file; a live run of the same file is not run twice."""

import dataclasses
import datetime as dt
import hashlib
import os
import socket

import pytest
from django.utils import timezone

from kokuho.interfaces import importer, residents_changes
from kokuho.interfaces.importer import file_import
from kokuho.interfaces.interruptions import import_files_interrupted_mark
from kokuho.interfaces.layout import ImportRejected
from kokuho.interfaces.models import (
    ImportedRecord,
    ImportFile,
    ImportFileStatus,
    ImportKind,
)
from kokuho.interfaces.tests.support import change, write_csv
from kokuho.people.models import Person
from kokuho.testing import dead_pid

pytestmark = pytest.mark.django_db


def _running(worker: str, *, heartbeat_ago: dt.timedelta, sha256: str = "a" * 64) -> ImportFile:
    now = timezone.now()
    return ImportFile.objects.create(
        kind=ImportKind.RESIDENTS_CHANGES,
        file_name="idou.csv",
        sha256=sha256,
        started_at=now - heartbeat_ago,
        heartbeat_at=now - heartbeat_ago,
        worker=worker,
    )


def test_a_run_whose_process_is_gone_is_marked_interrupted_and_a_live_one_is_not():
    host = socket.gethostname()
    dead = _running(f"{host}:{dead_pid()}", heartbeat_ago=dt.timedelta(seconds=5))
    alive = _running(f"{host}:{os.getpid()}", heartbeat_ago=dt.timedelta(hours=2))
    elsewhere_silent = _running("other-host:123", heartbeat_ago=dt.timedelta(minutes=20))
    elsewhere_recent = _running("other-host:124", heartbeat_ago=dt.timedelta(minutes=2))

    assert import_files_interrupted_mark() == 2

    status = dict(ImportFile.objects.values_list("pk", "status"))
    assert status[dead.pk] == status[elsewhere_silent.pk] == ImportFileStatus.INTERRUPTED
    # A process of this host that still runs is alive however long it has been silent; on
    # another host only silence tells, and two minutes is not enough.
    assert status[alive.pk] == status[elsewhere_recent.pk] == ImportFileStatus.RUNNING
    assert ImportFile.objects.get(pk=dead.pk).interrupted_at is not None


def _rows(n: int) -> list[dict]:
    return [
        change(str(i), "A01", "2026-04-01", str(100 + i), str(500 + i)) for i in range(1, n + 1)
    ]


def test_a_crashed_run_is_interrupted_and_the_next_run_of_the_file_continues_it(
    tmp_path, monkeypatch
):
    # One row a chunk, committed at once: the crash at the third row keeps the first two.
    monkeypatch.setattr(importer, "LEDGER_WINDOW", 1)
    monkeypatch.setattr(importer, "COMMIT_SECONDS", 0)
    path = write_csv(tmp_path / "r.csv", _rows(4))

    def crash_on_the_third(records):
        if any(record["record_id"] == "3" for record, _ctx in records):
            raise RuntimeError("disk full")
        return residents_changes.change_apply_batch(records)

    def crash_row(record, ctx):
        if record["record_id"] == "3":
            raise RuntimeError("disk full")
        residents_changes.change_apply(record, ctx)

    crashing = dataclasses.replace(
        residents_changes.IMPORTER, apply=crash_row, apply_batch=crash_on_the_third
    )
    with pytest.raises(RuntimeError):
        file_import(crashing, path=path, actor=None, progress=False)
    first = ImportFile.objects.get()
    assert first.status == ImportFileStatus.INTERRUPTED and first.finished_at is None
    applied_before = ImportedRecord.objects.filter(file=first).count()
    assert applied_before == 2

    summary = file_import(residents_changes.IMPORTER, path=path, actor=None, progress=False)

    second = ImportFile.objects.get(pk=summary.import_file_id)
    assert second.status == ImportFileStatus.DONE and second.resumed_from_id == first.pk
    assert (summary.applied, summary.skipped, summary.applied_before) == (2, 2, 2)
    assert "中断した取込（取込番号" in summary.format()
    assert second.counts["resumed_from"] == first.pk
    assert Person.objects.count() == 4
    # The interrupted run stays what it was (中断), now continued; a third run of the file
    # continues nothing (it is an ordinary re-run of a finished file).
    first.refresh_from_db()
    assert first.status == ImportFileStatus.INTERRUPTED and first.resumed_by == second
    again = file_import(residents_changes.IMPORTER, path=path, actor=None, progress=False)
    assert again.resumed_from is None and again.same_content_as == [second.pk]


def test_a_second_run_of_a_file_being_imported_is_refused(tmp_path):
    path = write_csv(tmp_path / "r.csv", _rows(2))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    live = _running(
        f"{socket.gethostname()}:{os.getpid()}", heartbeat_ago=dt.timedelta(0), sha256=digest
    )
    with pytest.raises(ImportRejected) as refused:
        file_import(residents_changes.IMPORTER, path=path, actor=None, progress=False)
    assert f"同じファイルを取込中です（取込番号 {live.pk}" in refused.value.reason
    assert ImportedRecord.objects.count() == 0
    refusal = ImportFile.objects.exclude(pk=live.pk).get()
    assert refusal.status == ImportFileStatus.REFUSED and refusal.finished_at is not None

"""続きから再開: a 取込依頼 that stopped part-way (its worker killed, or an error) is shown as
中断/失敗 and queued again from its stored file; only the rows not yet done are applied."""

import datetime as dt
import socket

import pytest
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.interfaces import importer, residents_changes
from kokuho.interfaces.interruptions import import_files_interrupted_mark
from kokuho.interfaces.jobs import ImportJobError, import_job_resume, import_job_submit
from kokuho.interfaces.models import (
    ImportedRecord,
    ImportFile,
    ImportFileStatus,
    ImportJob,
    ImportJobStatus,
    ImportKind,
)
from kokuho.interfaces.tests.support import change
from kokuho.interfaces.tests.worker import upload, worker_batch_run
from kokuho.people.models import Person
from kokuho.testing import dead_pid, login_verified, make_staff

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROWS = [change(str(i), "A01", "2026-04-01", str(100 + i), str(500 + i)) for i in range(1, 5)]


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, settings):
    settings.KOKUHO_UPLOAD_DIR = tmp_path / "uploads"
    return settings.KOKUHO_UPLOAD_DIR


@pytest.fixture
def clerk():
    return make_staff(role=Role.ELIGIBILITY)


def _crash_at_third(monkeypatch):
    monkeypatch.setattr(importer, "LEDGER_WINDOW", 1)
    monkeypatch.setattr(importer, "COMMIT_SECONDS", 0)
    real = residents_changes.change_event

    def broken(record, *, source):
        if record["record_id"] == "3":
            raise RuntimeError("ディスクが一杯です")
        return real(record, source=source)

    monkeypatch.setattr(residents_changes, "change_event", broken)


def test_a_failed_job_resumed_applies_only_the_rest(clerk, monkeypatch):
    _crash_at_third(monkeypatch)
    failed = import_job_submit(kind=ImportKind.RESIDENTS_CHANGES, upload=upload(ROWS), actor=clerk)
    worker_batch_run()
    failed.refresh_from_db()
    assert failed.status == ImportJobStatus.FAILED and failed.can_resume
    assert ImportedRecord.objects.count() == 2
    monkeypatch.undo()

    resumed = import_job_resume(job_id=failed.pk, actor=clerk)
    worker_batch_run()

    resumed.refresh_from_db()
    assert resumed.status == ImportJobStatus.DONE and resumed.resumes_id == failed.pk
    assert resumed.counts["applied"] == 2 and resumed.counts["applied_before"] == 2
    assert resumed.import_file.resumed_from_id == failed.import_file_id
    assert Person.objects.count() == 4 and ImportedRecord.objects.count() == 4
    failed.refresh_from_db()
    assert not failed.can_resume  # continued once; a second 再開 is refused
    with pytest.raises(ImportJobError, match="すでに再開"):
        import_job_resume(job_id=failed.pk, actor=clerk)
    with pytest.raises(ImportJobError, match="完了のため再開できません"):
        import_job_resume(job_id=resumed.pk, actor=clerk)


def test_a_job_whose_worker_was_killed_shows_as_interrupted_and_resumes(clerk, client):
    job = import_job_submit(kind=ImportKind.RESIDENTS_CHANGES, upload=upload(ROWS), actor=clerk)
    # What a worker killed after its first chunk leaves: the job 取込中, its run 取込中 with
    # the pid of a process that no longer exists.
    now = timezone.now()
    run = ImportFile.objects.create(
        kind=ImportKind.RESIDENTS_CHANGES,
        file_name=job.file_name,
        sha256=job.sha256,
        started_at=now,
        heartbeat_at=now,
        worker=f"{socket.gethostname()}:{dead_pid()}",
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJobStatus.RUNNING, started_at=now, import_file=run
    )
    login_verified(client, clerk)
    page = client.get(reverse("import_job_detail", args=[job.pk]))
    assert "中断" in page.content.decode() and "続きから再開" in page.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJobStatus.INTERRUPTED and job.finished_at is not None
    assert import_files_interrupted_mark() == 0  # already closed by the page's check

    answer = client.post(reverse("import_job_resume", args=[job.pk]))
    resumed = ImportJob.objects.get(resumes=job)
    assert answer.status_code == 302 and answer["Location"] == reverse(
        "import_job_detail", args=[resumed.pk]
    )
    worker_batch_run()
    resumed.refresh_from_db()
    assert resumed.status == ImportJobStatus.DONE
    assert resumed.import_file.resumed_from_id == run.pk
    assert ImportFile.objects.get(pk=run.pk).status == ImportFileStatus.INTERRUPTED


def test_a_job_silent_past_the_bound_before_its_run_began_is_interrupted(clerk, settings):
    job = import_job_submit(kind=ImportKind.RESIDENTS_CHANGES, upload=upload(ROWS), actor=clerk)
    started = timezone.now() - dt.timedelta(minutes=settings.KOKUHO_RUN_STALE_MINUTES + 1)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJobStatus.RUNNING, started_at=started)
    import_files_interrupted_mark()
    job.refresh_from_db()
    assert job.status == ImportJobStatus.INTERRUPTED

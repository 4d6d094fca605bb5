"""取込依頼の登録: the upload is stored by its hash, queued with its job, and audited."""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile
from django_tasks_db.models import DBTaskResult

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.interfaces.jobs import ImportJobError, import_job_submit
from kokuho.interfaces.models import ImportJob, ImportJobStatus, ImportKind
from kokuho.interfaces.tests.support import change
from kokuho.interfaces.tests.worker import upload
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def upload_dir(tmp_path, settings):
    settings.KOKUHO_UPLOAD_DIR = tmp_path / "uploads"
    return settings.KOKUHO_UPLOAD_DIR


@pytest.fixture
def clerk():
    return make_staff(role=Role.ELIGIBILITY)


def test_it_stores_the_file_by_its_hash_and_queues_the_job(upload_dir, clerk):
    sent = upload([change("1", "A01", "2026-04-01", "101", "501")])
    content = sent.read()
    sent.seek(0)

    job = import_job_submit(kind=ImportKind.RESIDENTS_CHANGES, upload=sent, actor=clerk)

    digest = hashlib.sha256(content).hexdigest()
    job.refresh_from_db()
    assert (job.status, job.file_name, job.sha256, job.size) == (
        ImportJobStatus.QUEUED,
        "residents-changes.csv",
        digest,
        len(content),
    )
    assert (upload_dir / digest).read_bytes() == content
    assert [p.name for p in upload_dir.iterdir()] == [digest]
    assert (upload_dir / digest).stat().st_mode & 0o077 == 0
    task = DBTaskResult.objects.get()
    assert str(task.id) == job.task_id
    assert task.status == "READY"
    assert task.task_path == "kokuho.interfaces.jobs.import_job_run"
    assert task.args_kwargs == {"args": [], "kwargs": {"job_id": job.pk}}


def test_it_writes_the_submission_to_the_audit_trail(upload_dir, clerk):
    job = import_job_submit(
        kind=ImportKind.INCOME,
        upload=upload([], name="shotoku.csv"),
        actor=clerk,
    )
    event = AuditEvent.objects.get(event_type=EventType.IMPORT_SUBMITTED)
    assert (event.actor, event.subject_id) == (clerk, f"import_job:{job.pk}")
    assert event.extra["import_job"]["file_name"] == "shotoku.csv"
    assert event.extra["import_job"]["kind"] == "income"


def test_the_sent_name_never_becomes_a_path(upload_dir, clerk):
    sent = upload([], name="x.csv")
    sent.name = "../../escape\x00me.csv"  # as a hostile client might send it

    job = import_job_submit(kind=ImportKind.RESIDENTS_CHANGES, upload=sent, actor=clerk)

    assert [p.name for p in upload_dir.iterdir()] == [job.sha256]
    assert not (upload_dir.parent / "escapeme.csv").exists()
    assert "/" not in job.file_name and "\x00" not in job.file_name


def test_it_refuses_a_file_over_the_limit_and_records_nothing(upload_dir, clerk, settings):
    settings.KOKUHO_UPLOAD_MAX_BYTES = 100
    with pytest.raises(ImportJobError, match="大きすぎます"):
        import_job_submit(
            kind=ImportKind.RESIDENTS_CHANGES,
            upload=upload([change(str(n), "B01", "2026-04-01", "1", "2") for n in range(5)]),
            actor=clerk,
        )
    assert not ImportJob.objects.exists()
    assert not DBTaskResult.objects.exists()
    assert not AuditEvent.objects.filter(event_type=EventType.IMPORT_SUBMITTED).exists()


def test_it_counts_the_bytes_instead_of_trusting_the_declared_size(upload_dir, clerk, settings):
    settings.KOKUHO_UPLOAD_MAX_BYTES = 100
    lying = InMemoryUploadedFile(io.BytesIO(b"x" * 101), "file", "a.csv", "text/csv", 10, None)
    with pytest.raises(ImportJobError, match="大きすぎます"):
        import_job_submit(kind=ImportKind.RESIDENTS_CHANGES, upload=lying, actor=clerk)
    assert list(upload_dir.iterdir()) == []  # the partial copy is gone too
    assert not ImportJob.objects.exists()


def test_it_refuses_an_empty_file(upload_dir, clerk):
    empty = InMemoryUploadedFile(io.BytesIO(b""), "file", "a.csv", "text/csv", 0, None)
    with pytest.raises(ImportJobError, match="空"):
        import_job_submit(kind=ImportKind.RESIDENTS_CHANGES, upload=empty, actor=clerk)
    assert not ImportJob.objects.exists()

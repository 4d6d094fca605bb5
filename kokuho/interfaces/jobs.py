"""取込依頼 (ImportJob): files uploaded on screen and imported by the background worker.

`import_job_submit` stores the upload under `KOKUHO_UPLOAD_DIR` by its SHA-256 and enqueues
`import_job_run` in the same transaction as the job row and its audit event: the task queue
(django-tasks-db) is a table of the business database, so a job never exists without its
task, nor a task without its job. The worker (`kokuho db_worker`) then runs the same import
services as `kokuho import …`; the screen follows `done_rows`/`total_rows`, which the
importer's progress callback writes after every committed chunk.
"""

import contextlib
import datetime as dt
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.tasks import task
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.mynumber import mask_my_numbers_in
from kokuho.core.purposes import Purpose
from kokuho.interfaces.importer import ImportSummary, ProgressCallback
from kokuho.interfaces.layout import ImportRejected
from kokuho.interfaces.models import (
    IMPORT_JOB_RESUMABLE,
    ImportFile,
    ImportJob,
    ImportJobStatus,
    ImportKind,
)
from kokuho.interfaces.services import (
    import_claims,
    import_income,
    import_myna_status,
    import_residents_changes,
)

__all__ = [
    "ImportJobError",
    "import_job_execute",
    "import_job_get",
    "import_job_run",
    "import_job_submit",
    "import_jobs_recent",
]

logger = logging.getLogger(__name__)

# Longest file name (UTF-8 bytes) kept for display and for the name the importer sees:
# file systems refuse names over 255 bytes, and a Japanese character takes three.
_NAME_MAX_BYTES = 200


class ImportJobError(ValueError):
    """The upload cannot be accepted (empty, too large); the message is shown as is."""


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def _display_name(name: str | None) -> str:
    """The sent file name, for people only: base name, printable, short enough for a path."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable()).strip()
    if base in {"", ".", ".."}:
        base = "upload.csv"
    suffix = Path(base).suffix[:10]
    stem = base[: len(base) - len(Path(base).suffix)] or "upload"
    while len((stem + suffix).encode()) > _NAME_MAX_BYTES:
        stem = stem[:-1]
    return stem + suffix


def _upload_store(upload: UploadedFile) -> tuple[str, int]:
    """Write the upload to `KOKUHO_UPLOAD_DIR/<sha256>` (owner-only); its digest and size.

    Counted while copying, not taken from the request: the limit holds whatever the client
    declared. The same content uploaded twice is one file."""
    limit = settings.KOKUHO_UPLOAD_MAX_BYTES
    directory = Path(settings.KOKUHO_UPLOAD_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in upload.chunks():
                size += len(chunk)
                if size > limit:
                    raise ImportJobError(
                        f"ファイルが大きすぎます（上限 {_megabytes(limit)}）。"
                        "大きなファイルはサーバーで kokuho import により取り込んでください。"
                    )
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ImportJobError("ファイルが空です。")
        os.replace(temporary, directory / digest.hexdigest())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def import_job_submit(*, kind: ImportKind, upload: UploadedFile, actor: Any) -> ImportJob:
    """取込依頼の登録: store the file, record the job and queue it for the worker.

    Raises `ImportJobError` for an empty or too large file (nothing is recorded then)."""
    limit = settings.KOKUHO_UPLOAD_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ImportJobError(
            f"ファイルが大きすぎます（{_megabytes(upload.size)}、上限 {_megabytes(limit)}）。"
            "大きなファイルはサーバーで kokuho import により取り込んでください。"
        )
    kind = ImportKind(kind)
    sha256, size = _upload_store(upload)
    return _job_queue(
        ImportJob(
            kind=kind,
            file_name=_display_name(upload.name),
            stored_name=sha256,
            sha256=sha256,
            size=size,
            submitted_by=actor,
            created_at=timezone.now(),
        ),
        actor=actor,
    )


def import_job_resume(*, job_id: int, actor: Any) -> ImportJob:
    """続きから再開: queue the stored file of a 中断 or 失敗 job again, as a new job.

    The importer's ledger skips every row the stopped run applied or set aside, so only the
    rest is applied; the new run is linked to the stopped one (`ImportFile.resumed_from`).
    Raises `ImportJobError` if the job did not stop part-way, was already continued, or its
    stored file is gone (the retention job removes uploads after their period)."""
    with transaction.atomic():
        job = get_object_or_404(ImportJob.objects.select_for_update(), pk=job_id)
        if job.status not in IMPORT_JOB_RESUMABLE:
            raise ImportJobError(f"この取込依頼は{job.get_status_display()}のため再開できません。")
        if ImportJob.objects.filter(resumes=job).exists():
            raise ImportJobError("この取込依頼はすでに再開しています。")
        if not (Path(settings.KOKUHO_UPLOAD_DIR) / job.stored_name).is_file():
            raise ImportJobError(
                "保存していたファイルが保存期間を過ぎて削除されています。"
                "もう一度ファイルを選んで取り込んでください。"
            )
        return _job_queue(
            ImportJob(
                kind=job.kind,
                file_name=job.file_name,
                stored_name=job.stored_name,
                sha256=job.sha256,
                size=job.size,
                submitted_by=actor,
                created_at=timezone.now(),
                resumes=job,
            ),
            actor=actor,
        )


def _job_queue(job: ImportJob, *, actor: Any) -> ImportJob:
    with transaction.atomic():
        job.save(force_insert=True)
        result = import_job_run.enqueue(job_id=job.pk)
        job.task_id = str(result.id)
        job.save(update_fields=["task_id"])
        audit_event_record(
            event_type=EventType.IMPORT_SUBMITTED,
            actor=actor,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"import_job:{job.pk}",
            purpose=Purpose.NHI_ELIGIBILITY,
            extra={
                "import_job": {
                    "id": job.pk,
                    "kind": job.kind,
                    "file_name": job.file_name,
                    "sha256": job.sha256,
                    "size": job.size,
                    "task_id": job.task_id,
                    "resumes": job.resumes_id,
                }
            },
        )
    return job


@task()
def import_job_run(*, job_id: int) -> str:
    """The worker's task: run one 取込依頼 (thin; the work is `import_job_execute`)."""
    return import_job_execute(job_id=job_id)


@contextlib.contextmanager
def _as_sent(job: ImportJob) -> Iterator[Path]:
    """The stored upload under the name it was sent with, in a private temporary directory.

    The importer names its ledger row (and the quarantine list) after the path it reads,
    and staff know the file by the name they uploaded, not by its hash."""
    stored = Path(settings.KOKUHO_UPLOAD_DIR) / job.stored_name
    with tempfile.TemporaryDirectory(prefix="kokuho-import-") as directory:
        link = Path(directory) / _display_name(job.file_name)
        link.symlink_to(stored)
        yield link


def _received_on(job: ImportJob) -> dt.date:
    """受付日: the day the file was first uploaded, through every 再開 of it."""
    first = job
    while first.resumes_id is not None:
        first = ImportJob.objects.only("created_at", "resumes_id").get(pk=first.resumes_id)
    return timezone.localdate(first.created_at)


def _import(job: ImportJob, path: Path, on_progress: ProgressCallback) -> ImportSummary:
    received_on = _received_on(job)
    if job.kind == ImportKind.INCOME:
        # 届出日 of a 更正 is the day the file was handed in, however long it waited.
        return import_income(
            path=path,
            actor=job.submitted_by,
            reported_on=received_on,
            on_progress=on_progress,
        )
    if job.kind == ImportKind.CLAIMS:
        # 受付日 (a 診療年月 after its month is refused) is the day of the upload too.
        return import_claims(
            path=path,
            actor=job.submitted_by,
            reported_on=received_on,
            on_progress=on_progress,
        )
    if job.kind == ImportKind.MYNA_STATUS:
        # 受付日 (a 基準日 after it is refused) is the day of the upload.
        return import_myna_status(
            path=path,
            actor=job.submitted_by,
            reported_on=received_on,
            on_progress=on_progress,
        )
    return import_residents_changes(path=path, actor=job.submitted_by, on_progress=on_progress)


def _finish(job_id: int, status: ImportJobStatus, **fields: Any) -> None:
    ImportJob.objects.filter(pk=job_id).update(status=status, finished_at=timezone.now(), **fields)


def import_job_execute(*, job_id: int) -> str:
    """Run a queued 取込依頼 and record the outcome on it; the final status.

    A refused file ends `rejected` with the importer's reason, any other error `failed` with
    the message (the chunks already committed stay; importing the file again resumes).
    A job that is no longer queued is left alone: a task delivered twice imports once."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJobStatus.QUEUED).update(
        status=ImportJobStatus.RUNNING, started_at=timezone.now()
    )
    job = ImportJob.objects.select_related("submitted_by").get(pk=job_id)
    if not claimed:
        return job.status

    def progress(import_file: ImportFile, done: int, total: int) -> None:
        # One UPDATE in autocommit, after the importer's chunk has committed: the screen
        # sees each chunk at once, and no lock is held across the import.
        ImportJob.objects.filter(pk=job_id).update(
            import_file=import_file, done_rows=done, total_rows=total
        )

    try:
        with _as_sent(job) as path:
            summary = _import(job, path, progress)
    except ImportRejected as rejected:
        _finish(job_id, ImportJobStatus.REJECTED, error_message=rejected.reason)
        return ImportJobStatus.REJECTED.value
    except BaseException as error:
        logger.exception("import job %s failed", job_id)
        job.refresh_from_db(fields=["import_file"])
        partial = job.import_file.counts if job.import_file else {}
        message = mask_my_numbers_in(f"{type(error).__name__}: {error}")
        _finish(
            job_id,
            ImportJobStatus.FAILED,
            counts=partial,
            error_message=(
                f"取込の途中でエラーが発生しました（{message}）。"
                "反映済みの行はそのまま残っています。"
                "原因を取り除いて同じファイルをもう一度取り込むと、続きから再開します。"
            ),
        )
        if not isinstance(error, Exception):
            raise  # the worker is being stopped: let it stop
        return ImportJobStatus.FAILED.value
    _finish(
        job_id,
        ImportJobStatus.DONE,
        import_file_id=summary.import_file_id,
        done_rows=summary.read,
        counts={**summary.counts(), "same_content_as": summary.same_content_as},
    )
    return ImportJobStatus.DONE.value


def import_job_get(*, job_id: int) -> ImportJob:
    """One 取込依頼 with its ledger row and sender (404 if there is none)."""
    related = ImportJob.objects.select_related("import_file", "submitted_by__staff_profile")
    return get_object_or_404(related, pk=job_id)


def import_jobs_recent(*, limit: int = 20) -> QuerySet[ImportJob]:
    """取込依頼の一覧, newest first, with who sent each."""
    return ImportJob.objects.select_related(
        "submitted_by", "submitted_by__staff_profile", "import_file"
    ).order_by("-created_at", "-pk")[:limit]

"""取込依頼の実行: the real worker (`kokuho db_worker`) imports the file and records how it
went — progress per committed chunk, the summary, a refused file, an unexpected error.

The worker runs in this process (`--batch`) against committed data (`transaction=True`),
as it would in its own process; one test also starts it as a separate process where the
test database can be shared (PostgreSQL: an in-memory SQLite database cannot)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from kokuho.accounts.permissions import Role
from kokuho.interfaces import importer, jobs, residents_changes
from kokuho.interfaces.jobs import import_job_execute, import_job_submit
from kokuho.interfaces.models import ImportFile, ImportJob, ImportJobStatus, ImportKind
from kokuho.interfaces.tests.support import INCOME_HEADER, change
from kokuho.interfaces.tests.worker import upload, worker_batch_run
from kokuho.people.models import Income, Person
from kokuho.testing import make_person, make_staff

# Committed data, as a worker in another process would see it. Serialized rollback puts back
# what migrations wrote (the audit chain's head) after the flush of the previous such test.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ROWS = [
    change("1", "A01", "2026-04-01", "101", "501"),
    change("2", "A01", "2026-04-01", "102", "502"),
    change("3", "A01", "2026-02-30", "103", "503"),  # no such day: quarantined
    change("4", "A01", "2026-04-02", "104", "504"),
]


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, settings):
    settings.KOKUHO_UPLOAD_DIR = tmp_path / "uploads"
    return settings.KOKUHO_UPLOAD_DIR


@pytest.fixture
def clerk():
    return make_staff(role=Role.ELIGIBILITY)


def _submit(clerk, rows=ROWS, **kwargs) -> ImportJob:
    return import_job_submit(
        kind=kwargs.pop("kind", ImportKind.RESIDENTS_CHANGES),
        upload=upload(rows, **kwargs),
        actor=clerk,
    )


def test_the_worker_imports_the_file_and_records_the_summary(clerk):
    job = _submit(clerk)

    worker_batch_run()

    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE
    assert (job.done_rows, job.total_rows) == (4, 4)
    assert job.started_at <= job.finished_at
    assert job.counts | {"read": 4, "applied": 3, "skipped": 0, "quarantined": 1} == job.counts
    assert job.counts["quarantined_by_reason"] == {"日付の誤り（change_date）": 1}
    assert job.counts["same_content_as"] == []
    assert job.error_message == ""
    # The ledger knows the file by the name it was sent with, not by its stored hash.
    assert job.import_file.file_name == "residents-changes.csv"
    assert job.import_file.actor == clerk
    assert set(Person.objects.values_list("atena_no", flat=True)) == {"101", "102", "104"}
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_the_same_file_again_is_skipped_and_says_so(clerk):
    first = _submit(clerk)
    worker_batch_run()
    again = _submit(clerk)
    worker_batch_run()

    again.refresh_from_db()
    first.refresh_from_db()
    assert again.status == ImportJobStatus.DONE
    assert (again.counts["applied"], again.counts["skipped"]) == (0, 4)
    assert again.counts["same_content_as"] == [first.import_file_id]


def test_progress_is_written_after_each_committed_chunk(clerk, monkeypatch):
    # One row per ledger window (hence per chunk), so that a four-row file reports
    # progress in between.
    monkeypatch.setattr(importer, "LEDGER_WINDOW", 1)
    seen: list[tuple[int, int]] = []
    real = jobs.import_residents_changes

    def observed_import(*, path, actor, on_progress):
        def observed(import_file, done, total):
            on_progress(import_file, done, total)
            # Written outside any transaction: another session sees it at once.
            assert not transaction.get_connection().in_atomic_block
            seen.append(ImportJob.objects.values_list("done_rows", "total_rows").get())

        return real(path=path, actor=actor, on_progress=observed)

    monkeypatch.setattr(jobs, "import_residents_changes", observed_import)
    _submit(clerk)

    worker_batch_run()

    assert seen[0] == (0, 4)
    assert seen[-1] == (4, 4)
    assert len(seen) >= 3  # the first, the last, and chunks in between
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert ImportJob.objects.get().status == ImportJobStatus.DONE


def test_a_refused_file_ends_rejected_with_the_reason(clerk):
    job = import_job_submit(
        kind=ImportKind.RESIDENTS_CHANGES,
        upload=upload([{"a": "1", "b": "2"}], header=["a", "b"], name="wrong.csv"),
        actor=clerk,
    )

    worker_batch_run()

    job.refresh_from_db()
    assert job.status == ImportJobStatus.REJECTED
    assert "見出し行がありません" in job.error_message
    assert job.finished_at is not None
    assert ImportFile.objects.get().rejected_reason == job.error_message
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_missing_stored_file_ends_rejected(clerk, upload_dir):
    job = _submit(clerk)
    (upload_dir / job.stored_name).unlink()

    worker_batch_run()

    job.refresh_from_db()
    assert job.status == ImportJobStatus.REJECTED
    assert "ファイルを読めません" in job.error_message


def test_an_unexpected_error_is_recorded_as_failed_and_the_worker_goes_on(clerk, monkeypatch):
    def broken(record, *, source):
        raise RuntimeError("計算の不具合")

    # A bug, not a refusal of the record: the importer stops the file (any batch is redone
    # row by row first, which meets the same bug).
    monkeypatch.setattr(residents_changes, "change_event", broken)
    failing = _submit(clerk)
    after = _submit(clerk, rows=ROWS[:1], name="next.csv")

    worker_batch_run()

    failing.refresh_from_db()
    assert failing.status == ImportJobStatus.FAILED
    assert "RuntimeError: 計算の不具合" in failing.error_message
    assert "続きから再開します" in failing.error_message
    assert failing.finished_at is not None
    assert "aborted" in failing.counts  # how far the importer got, from its ledger row
    after.refresh_from_db()
    assert after.status == ImportJobStatus.FAILED  # same breakage, but it was run
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def test_a_job_is_imported_once_even_if_its_task_runs_twice(clerk):
    job = _submit(clerk)
    assert import_job_execute(job_id=job.pk) == "done"
    assert import_job_execute(job_id=job.pk) == "done"
    assert ImportFile.objects.count() == 1


def test_an_income_file_is_dated_by_the_day_it_was_handed_in(clerk):
    make_person(atena_no="700")
    row = {
        "record_id": "1",
        "atena_no": "700",
        "income_year": "2025",
        "total_income": "2500000",
        "taxable": "1800000",
        "tax_exempt": "0",
        "revenue": "3800000",
        "pension_revenue": "0",
        "pension_income": "0",
        "unreported": "0",
    }
    job = _submit(clerk, rows=[row], kind=ImportKind.INCOME, header=INCOME_HEADER)

    worker_batch_run()

    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE
    assert job.import_file.kind == ImportKind.INCOME
    assert Income.objects.get().income_year == 2025


def _database_url(settings_dict: dict) -> str:
    user = settings_dict["USER"] or "postgres"
    host = settings_dict["HOST"] or "127.0.0.1"
    port = settings_dict["PORT"] or 5432
    return f"postgresql://{user}@{host}:{port}/{settings_dict['NAME']}"


def test_the_worker_command_runs_the_job_in_its_own_process(clerk, upload_dir, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the in-memory SQLite test database cannot be opened by another process")
    from django.db import connections

    job = _submit(clerk)
    env = {
        **os.environ,
        "KOKUHO_DATABASE_URL": _database_url(connection.settings_dict),
        "KOKUHO_VAULT_DATABASE_URL": _database_url(connections["vault"].settings_dict),
        "KOKUHO_UPLOAD_DIR": str(upload_dir),
        "KOKUHO_VAR_DIR": str(tmp_path),
        "KOKUHO_SECRET_KEY": "test-only",
    }
    kokuho = Path(sys.executable).with_name("kokuho")
    completed = subprocess.run(
        [str(kokuho), "db_worker", "--batch", "--no-startup-delay", "--no-reload"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr

    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE
    assert job.counts["applied"] == 3

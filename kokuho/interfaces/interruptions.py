"""中断した取込: telling a live import from one whose process died, and continuing it.

A run that fails inside Python marks itself 中断 on the way out; a run killed outright
(`kill -9`, a power cut, the worker's machine lost) cannot, and would stay 取込中 for ever.
Each run therefore records its process (`worker`, host:pid) and a heartbeat at every
committed chunk. `import_files_interrupted_mark` closes the runs whose process is gone
(same host) or whose heartbeat is older than `KOKUHO_RUN_STALE_MINUTES` (another host, or
a pid that was reused; `kokuho.core.liveness`), and the 取込依頼 that were waiting on them.

Continuing needs nothing but the same file: the ledger skips every row the interrupted run
applied or set aside, so `file_import` links the new run to the interrupted one
(`resumed_from`) and reports how much had already been done.
"""

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from kokuho.core.liveness import dead_runs_close, stale_before
from kokuho.interfaces.models import (
    ImportFile,
    ImportFileStatus,
    ImportJob,
    ImportJobStatus,
    ImportKind,
)

INTERRUPTED_JOB_MESSAGE = (
    "取込の処理が途中で停止しました（処理していたプロセスが見つかりません）。"
    "反映済みの行はそのまま残っています。「続きから再開」で同じファイルを取り込むと、"
    "残りの行だけを反映します。"
)


def import_files_interrupted_mark(*, now: dt.datetime | None = None) -> int:
    """Mark as 中断 every 取込中 run whose process is gone; the number marked.

    Reads only the unfinished runs (a partial index): cheap enough to call before every
    import and on every view of the import screen."""
    now = now or timezone.now()
    marked = dead_runs_close(
        ImportFile.objects.filter(status=ImportFileStatus.RUNNING),
        now=now,
        status=ImportFileStatus.INTERRUPTED,
        interrupted_at=now,
    )
    _jobs_interrupted_mark(now)
    return marked


def _jobs_interrupted_mark(now: dt.datetime) -> int:
    """取込依頼 still 取込中 whose run is 中断, or that never got as far as a run and have
    been silent past the stale bound: 中断 too, so the screen stops waiting on them."""
    stale = stale_before(now)
    waiting = ImportJob.objects.filter(status=ImportJobStatus.RUNNING).filter(
        Q(import_file__status=ImportFileStatus.INTERRUPTED)
        | Q(import_file__isnull=True, started_at__lt=stale)
    )
    return waiting.update(
        status=ImportJobStatus.INTERRUPTED, finished_at=now, error_message=INTERRUPTED_JOB_MESSAGE
    )


def interrupted_run_for(*, kind: ImportKind, sha256: str) -> ImportFile | None:
    """The latest 中断 run of this file not yet continued: the one a new run resumes."""
    return (
        ImportFile.objects.filter(
            kind=kind,
            sha256=sha256,
            status=ImportFileStatus.INTERRUPTED,
            resumed_by__isnull=True,
        )
        .order_by("-pk")
        .first()
    )


def running_run_for(*, kind: ImportKind, sha256: str) -> ImportFile | None:
    """A live run of the same file: a second one at the same time is refused."""
    return (
        ImportFile.objects.filter(kind=kind, sha256=sha256, status=ImportFileStatus.RUNNING)
        .order_by("pk")
        .first()
    )

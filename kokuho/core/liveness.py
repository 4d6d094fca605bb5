"""Is the process behind a run still there? (処理の生存確認)

A job that fails inside Python says so on its way out; one killed outright (`kill -9`, the
machine lost) cannot, and its run would stay 実行中 for ever — blocking the next run of the
same month or file, and leaving its partial work unowned. Every long run therefore records
its process (`worker`: host:pid) and a heartbeat with each progress report; a run is taken
as dead when its process is gone on this host, or when it has been silent longer than
`KOKUHO_RUN_STALE_MINUTES` (another host, or a pid reused by an unrelated process).
"""

import datetime as dt
import os
import socket
from collections.abc import Iterable

from django.conf import settings
from django.db.models import QuerySet


def worker_id() -> str:
    """This process, as a run records it: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def process_alive(worker: str) -> bool | None:
    """Whether the worker's process still runs; None when it is on another host (unknown)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process under that pid: not ours to judge
    return True


def stale_before(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(minutes=settings.KOKUHO_RUN_STALE_MINUTES)


def dead_runs(
    runs: Iterable[tuple[int, str, dt.datetime | None, dt.datetime | None]], *, now: dt.datetime
) -> list[int]:
    """Of (pk, worker, heartbeat_at, started_at) rows of running runs, those whose process is
    gone. A run without a worker (recorded before workers were) is judged by silence only."""
    stale = stale_before(now)
    dead = []
    for pk, worker, heartbeat_at, started_at in runs:
        alive = process_alive(worker) if worker else None
        last_sign = heartbeat_at or started_at
        if alive is False or (alive is None and last_sign is not None and last_sign < stale):
            dead.append(pk)
    return dead


def dead_runs_close(running: QuerySet, *, now: dt.datetime, **closed: object) -> int:
    """Update (with `closed`) the runs of `running` — a queryset of running runs with
    `worker`, `heartbeat_at` and `started_at` — whose process is gone; the number closed."""
    dead = dead_runs(running.values_list("pk", "worker", "heartbeat_at", "started_at"), now=now)
    if not dead:
        return 0
    return running.filter(pk__in=dead).update(**closed)

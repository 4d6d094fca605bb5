"""A monthly run cut off part-way leaves nothing but its run row: its results, invitations
and decisions are written with its end, in one transaction; a run whose process died is
closed as 失敗 (中断) by the next run of the month."""

import datetime as dt
import os
import socket

import pytest
from django.utils import timezone

from kokuho.benefits.kogaku import run as kogaku_run
from kokuho.benefits.kogaku.run import (
    kogaku_run_create,
    kogaku_run_execute,
    kogaku_runs_interrupted_mark,
)
from kokuho.benefits.models import KogakuResult, KogakuRun, KogakuRunStatus
from kokuho.testing import dead_pid, make_claim, make_insured

pytestmark = pytest.mark.django_db

JULY = dt.date(2026, 7, 1)


@pytest.fixture
def month_with_a_benefit():
    person = make_insured(birth_date=dt.date(1970, 1, 10))
    make_claim(person=person, service_month=JULY, setting=1, points=100000, copay=300000)
    return person


def test_a_failure_after_the_results_were_stored_leaves_no_results(
    month_with_a_benefit, monkeypatch
):
    def broken(*, run):
        raise RuntimeError("申請勧奨の作成に失敗")

    monkeypatch.setattr(kogaku_run, "kogaku_followups", broken)
    failed = kogaku_run_execute(run_id=kogaku_run_create(month=JULY, actor=None).pk)
    assert failed.status == KogakuRunStatus.FAILED
    assert "申請勧奨の作成に失敗" in failed.error_message
    assert not KogakuResult.objects.exists()  # stored, then rolled back with the rest

    monkeypatch.undo()
    done = kogaku_run_execute(run_id=kogaku_run_create(month=JULY, actor=None).pk)
    assert done.status == KogakuRunStatus.DONE
    assert KogakuResult.objects.filter(run=done).count() == 1
    assert KogakuResult.objects.count() == 1


def test_a_run_whose_process_died_is_closed_by_the_next_run(month_with_a_benefit):
    now = timezone.now()
    killed = KogakuRun.objects.create(
        month=JULY,
        created_at=now,
        started_at=now,
        status=KogakuRunStatus.RUNNING,
        worker=f"{socket.gethostname()}:{dead_pid()}",
        heartbeat_at=now,
    )
    live = KogakuRun.objects.create(
        month=JULY,
        created_at=now,
        started_at=now - dt.timedelta(hours=1),
        status=KogakuRunStatus.RUNNING,
        worker="another-host:77",
        heartbeat_at=now - dt.timedelta(minutes=1),
    )

    done = kogaku_run_execute(run_id=kogaku_run_create(month=JULY, actor=None).pk)

    killed.refresh_from_db()
    assert killed.status == KogakuRunStatus.FAILED and killed.finished_at is not None
    assert "中断" in killed.error_message
    live.refresh_from_db()
    assert live.status == KogakuRunStatus.RUNNING  # heard from a minute ago: left alone
    assert done.status == KogakuRunStatus.DONE and done.worker.endswith(":" + str(os.getpid()))
    assert kogaku_runs_interrupted_mark() == 0

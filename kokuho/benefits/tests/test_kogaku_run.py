"""The monthly run (`kokuho kogaku run`): stored claims in, results per household and person
out, through the worker or the command; refused months store nothing; 多数回 from the
household's earlier runs. Residents without income records are ア (under 70) and 一般
(70–74) by the category rules (未申告)."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.kogaku.run import (
    kogaku_run_create,
    kogaku_run_execute,
    kogaku_run_submit,
)
from kokuho.benefits.kogaku.workflow import kogaku_current_run
from kokuho.benefits.models import KogakuResult, KogakuRun, KogakuRunStatus
from kokuho.interfaces.tests.worker import worker_batch_run
from kokuho.testing import make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

JULY = dt.date(2026, 7, 1)


def _run(month: dt.date = JULY) -> KogakuRun:
    return kogaku_run_execute(run_id=kogaku_run_create(month=month, actor=None).pk)


def _inpatient(person, month=JULY, **fields):
    fields = {"provider": "3810000011", "setting": 1, "points": 100000, "copay": 300000} | fields
    return make_claim(person=person, service_month=month, **fields)


@pytest.fixture
def city():
    """A (ア, one inpatient stay), b (73, 一般, outpatient 30,000), c (small claim only)."""
    a = make_insured(birth_date=dt.date(1970, 1, 10))
    b = make_insured(birth_date=dt.date(1953, 3, 2))
    c = make_insured(birth_date=dt.date(1980, 5, 5))
    _inpatient(a)
    make_claim(person=b, service_month=JULY, setting=2, points=15000, copay=30000)
    make_claim(person=c, service_month=JULY, points=1000, copay=3000)
    make_claim(person=None, service_month=JULY, points=50000, copay=150000)  # 番号不明
    return a, b, c


def test_a_month_is_computed_for_every_household_that_can_be_owed(city):
    a, b, c = city
    run = _run()
    assert run.status == KogakuRunStatus.DONE
    results = {r.household_id: r for r in KogakuResult.objects.filter(run=run)}
    # ア: 252,600 + (1,000,000 − 842,000) × 1% = 254,180 → 45,820.
    assert results[a.household_id].benefit == 45820
    assert results[a.household_id].household_limit == 254180
    assert results[a.household_id].main_step == "3"
    # 一般 70–74 outpatient 30,000 − 18,000 = 12,000 (step 1, not a household step).
    assert results[b.household_id].benefit == 12000
    assert results[b.household_id].household_step_benefit == 0
    # c's 3,000 cannot be owed anything: not a candidate, no result.
    assert c.household_id not in results
    share = results[a.household_id].persons.get()
    assert (share.person_id, share.counted_copay, share.benefit) == (a.pk, 300000, 45820)
    assert run.counts["paid"] == 2
    assert run.counts["total_benefit"] == 57820
    assert run.counts["claims_unmatched"] == 1
    assert run.counts["claims"] == 3
    assert run.counts["reasons"] == {"世帯合算": 1, "70〜74歳の外来（個人）": 1}
    assert {p["name"] for p in run.parameters} >= {"kogaku.under70_limits", "kogaku.many_times"}
    event = AuditEvent.objects.get(event_type=EventType.KOGAKU_RUN)
    assert event.subject_id == "kogaku:2026-07"
    assert (run.stage, run.done, run.total) == ("結果の保存", 2, 2)


def test_an_unconfirmed_month_is_refused_and_stores_nothing(city):
    run = _run(dt.date(2026, 8, 1))
    assert run.status == KogakuRunStatus.REFUSED
    assert "2026-08 以降の限度額が未確定" in run.error_message
    assert not KogakuResult.objects.exists()


def test_the_fourth_paid_month_in_twelve_is_many_times(city):
    a, _, _ = city
    for month in (dt.date(2025, 8, 1), dt.date(2026, 1, 1), dt.date(2026, 5, 1)):
        _inpatient(a, month)
        assert _run(month).status == KogakuRunStatus.DONE
    run = _run()
    result = KogakuResult.objects.get(run=run, household=a.household_id)
    # ア 多数回 140,100: 300,000 − 140,100 = 159,900.
    assert (result.many_times, result.household_limit, result.benefit) == (True, 140100, 159900)


def test_an_outpatient_only_month_does_not_count_for_many_times(city):
    _, b, _ = city
    for month in (dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)):
        make_claim(person=b, service_month=month, setting=2, points=15000, copay=30000)
        _run(month)
    # b was paid in each month by step 1 only; July's 70–74 household step is not 多数回.
    result = KogakuResult.objects.get(run=_run(), household=b.household_id)
    assert result.many_times is False


def test_running_a_month_again_makes_the_new_run_current(city):
    first = _run()
    second = _run()
    assert kogaku_current_run(month=JULY) == second
    assert KogakuResult.objects.filter(run=first).count() == 2
    assert KogakuResult.objects.filter(run=second).count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_runs_a_queued_month(city):
    staff = make_staff()
    run = kogaku_run_submit(month=JULY, actor=staff)
    assert KogakuRun.objects.get(pk=run.pk).status == KogakuRunStatus.QUEUED
    worker_batch_run()
    run.refresh_from_db()
    assert run.status == KogakuRunStatus.DONE
    assert run.requested_by == staff
    assert run.counts["paid"] == 2


def test_the_command_prints_the_summary_and_exits_2_on_an_unconfirmed_month(city):
    out = StringIO()
    call_command("kogaku", "run", "--month", "2026-07", "--no-progress", stdout=out)
    text = out.getvalue()
    assert "支給対象 2 世帯・支給額 合計 57,820 円" in text
    assert "主な理由: " in text
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("kogaku", "run", "--month", "2026-08", stdout=StringIO(), stderr=err)
    assert exit_.value.code == 2
    assert "未確定" in err.getvalue()

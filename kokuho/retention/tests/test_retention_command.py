"""`kokuho retention plan|run`: Japanese output, confirmation, refusal of a future date."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kokuho.people.models import Person
from kokuho.retention.models import DeletionRecord, RetentionRun, RunStatus
from kokuho.retention.tests.builders import D, arrive, at, depart, plant_event

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


@pytest.fixture
def old_person() -> Person:
    plant_event(at(D(2012, 4, 1)))
    return depart(arrive(moved_in=D(2009, 4, 1)), on=D(2012, 4, 1))


def _call(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("retention", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_plan_prints_each_class_and_changes_nothing(old_person):
    out, _ = _call("plan", "--as-of", "2026-03-01")
    assert "消去計画（基準日 2026-03-01）" in out
    assert "住民・世帯・資格の記録: 1 人" in out
    assert "records.person.10y_after_last_change" in out
    assert "アクセス記録・監査ログ: 1 件" in out
    # The benefits app is installed: claims are counted by their own rule.
    assert "レセプト（診療報酬明細書）: 0 件（規則 claims.receipt.5y_after_service_month" in out
    assert Person.objects.filter(pk=old_person.pk).exists()
    assert not RetentionRun.objects.exists()


def test_run_without_yes_refuses_without_a_terminal(old_person):
    with pytest.raises(CommandError, match="--yes"):
        _call("run", "--as-of", "2026-03-01")
    assert Person.objects.filter(pk=old_person.pk).exists()
    assert not RetentionRun.objects.exists()


def test_run_with_yes_erases_and_reports(old_person):
    out, err = _call("run", "--as-of", "2026-03-01", "--yes")
    assert "住民・世帯・資格の記録: 1 人 を消去" in out
    assert "消去記録" in out
    assert "住民・世帯・資格の記録" in err  # the progress bar
    assert not Person.objects.filter(pk=old_person.pk).exists()
    run = RetentionRun.objects.get()
    assert run.status == RunStatus.DONE and run.as_of == D(2026, 3, 1)
    assert DeletionRecord.objects.filter(run=run).count() == 2  # records, audit


def test_a_future_date_is_refused():
    with pytest.raises(CommandError, match="今日"):
        _call("run", "--as-of", "2999-01-01", "--yes")


def test_a_malformed_date_is_refused():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        _call("plan", "--as-of", "2026/03/01")

"""高額療養費 screens after the first decision: a 変更決定 shown with the month's history and
its notice, the months noted for re-computation on the runs page, and a 不支給 decided
from the result page. b (73, 一般) is owed 12,000 for July 2026; c (45) nothing."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from kokuho.accounts.permissions import Role
from kokuho.benefits.kogaku.recompute import kogaku_months_dirty
from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.kogaku.workflow import AccountIn, kogaku_application_register, kogaku_decide
from kokuho.benefits.models import (
    DecisionOutcome,
    KogakuDecision,
    KogakuResult,
    KogakuRun,
    KogakuRunStatus,
    RecomputeCause,
)
from kokuho.testing import login_verified, make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

JULY = dt.date(2026, 7, 1)


def _run() -> KogakuRun:
    return kogaku_run_execute(run_id=kogaku_run_create(month=JULY, actor=None).pk)


@pytest.fixture
def clerk(client):
    staff = make_staff(role=Role.BENEFITS)
    login_verified(client, staff)
    return staff


@pytest.fixture
def decided(clerk):
    b = make_insured(birth_date=dt.date(1953, 3, 2))
    make_claim(person=b, service_month=JULY, setting=2, points=15000, copay=30000)
    _run()
    application = kogaku_application_register(
        household=b.household,
        month=JULY,
        applicant=b,
        received_on=dt.date(2026, 9, 1),
        account=AccountIn("0001", "001", 1, "1234567", "きゅうふ たろう"),
        simplify=False,
        actor=clerk,
    )
    return b, kogaku_decide(application=application, actor=clerk, decided_on=dt.date(2026, 9, 3))


def test_a_change_decision_is_shown_with_the_history_and_its_notice(client, decided):
    b, first = decided
    make_claim(person=b, service_month=JULY, setting=2, points=3400, copay=10000)
    run = _run()
    result = KogakuResult.objects.get(run=run, household=b.household)
    page = client.get(reverse("kogaku_result_detail", args=[result.pk])).content.decode()
    assert 'id="decision-chain"' in page
    assert "追加支給 10,000 円" in page
    assert RecomputeCause.LATE_CLAIM.label in page
    change = KogakuDecision.objects.get(replaces=first)
    assert reverse("kogaku_decision_notice", args=[change.pk]) in page
    assert "変更決定通知書（PDF）" in page
    response = client.get(reverse("kogaku_decision_notice", args=[change.pk]))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "支給額変更決定通知書" in text and "変更前の計算" in text


def test_months_noted_for_recomputation_are_offered_on_the_runs_page(client, decided):
    b, _ = decided
    page = client.get(reverse("kogaku_runs")).content.decode()
    assert 'id="recompute"' not in page
    kogaku_months_dirty([(b.household_id, JULY)], cause=RecomputeCause.ELIGIBILITY_CHANGE)
    page = client.get(reverse("kogaku_runs")).content.decode()
    assert 'id="recompute"' in page and "1 世帯" in page
    response = client.post(reverse("kogaku_run_start"), {"month": "令和8年7月"})
    assert response.status_code == 302
    assert KogakuRun.objects.filter(month=JULY, status=KogakuRunStatus.QUEUED).count() == 1


def test_an_application_with_nothing_due_is_refused_from_the_result_page(client, clerk):
    c = make_insured(birth_date=dt.date(1981, 5, 5))
    # 25,000 at one provider reaches the 21,000 floor, far below the limit: a result of 0.
    make_claim(person=c, service_month=JULY, setting=2, points=8400, copay=25000)
    _run()
    result = KogakuResult.objects.get(household=c.household)
    assert result.benefit == 0
    url = reverse("kogaku_result_detail", args=[result.pk])
    assert 'id="application-form"' in client.get(url).content.decode()
    data = {
        "applicant": c.pk,
        "received_on": "R8.9.1",
        "bank_code": "0001",
        "branch_code": "001",
        "account_type": "1",
        "account_number": "1234567",
        "holder_kana": "キュウフ タロウ",
    }
    assert client.post(reverse("kogaku_application_new", args=[result.pk]), data).status_code == 302
    response = client.post(
        reverse("kogaku_decision_new", args=[result.pk]), {"decided_on": "R8.9.5"}, follow=True
    )
    page = response.content.decode()
    assert "不支給と決定しました" in page
    decision = KogakuDecision.objects.get(household=c.household)
    assert decision.outcome == DecisionOutcome.REFUSED
    assert "不支給決定通知書（PDF）" in page

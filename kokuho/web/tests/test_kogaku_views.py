"""高額療養費 screens: runs, a run's households, a result with its application and decision,
payment, notices — with a real monthly run; and who may not.

a (ア, 世帯主) is owed 45,820 for July 2026; b (73, 一般) 12,000."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.models import (
    KogakuApplication,
    KogakuDecision,
    KogakuInvitation,
    KogakuResult,
    KogakuRun,
    KogakuRunStatus,
)
from kokuho.testing import login_verified, make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

JULY = dt.date(2026, 7, 1)
JUNE = dt.date(2026, 6, 1)


def _run(month: dt.date = JULY) -> KogakuRun:
    return kogaku_run_execute(run_id=kogaku_run_create(month=month, actor=None).pk)


@pytest.fixture
def city():
    a = make_insured(birth_date=dt.date(1970, 1, 10))
    b = make_insured(birth_date=dt.date(1953, 3, 2))
    for month in (JUNE, JULY):
        make_claim(
            person=a,
            service_month=month,
            provider="3810000011",
            setting=1,
            points=100000,
            copay=300000,
        )
    make_claim(person=b, service_month=JULY, setting=2, points=15000, copay=30000)
    return a, b


@pytest.fixture
def clerk(client):
    staff = make_staff(role=Role.BENEFITS)
    login_verified(client, staff)
    return staff


def _result(person) -> KogakuResult:
    return KogakuResult.objects.get(household=person.household, run__month=JULY)


def _apply(client, result, **overrides):
    data = {
        "applicant": result.household.head_id,
        "received_on": "R8.9.1",
        "bank_code": "0001",
        "branch_code": "001",
        "account_type": "1",
        "account_number": "1234567",
        "holder_kana": "キュウフ タロウ",
    } | overrides
    return client.post(reverse("kogaku_application_new", args=[result.pk]), data)


def _pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_runs_page_lists_runs_with_counts_and_offers_the_latest_confirmed_month(
    client, clerk, city
):
    run = _run()
    page = client.get(reverse("kogaku_runs"))
    body = page.content.decode()
    assert page.status_code == 200
    assert "令和8年7月" in body
    assert "2 世帯" in body and "57,820 円" in body
    assert 'value="令和8年7月"' in body  # the latest confirmed month before today
    assert reverse("kogaku_run_detail", args=[run.pk]) in body
    assert "支給対象 2 世帯" in body  # the summary


def test_starting_a_run_queues_it_and_the_page_polls_while_it_is_open(client, clerk, city):
    response = client.post(reverse("kogaku_run_start"), {"month": "R8.7"})
    run = KogakuRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("kogaku_run_detail", args=[run.pk])
    assert (run.month, run.status, run.requested_by) == (JULY, KogakuRunStatus.QUEUED, clerk)
    assert run.task_id
    page = client.get(response.url).content.decode()
    assert 'hx-trigger="every 1s"' in page and "待機中" in page
    again = client.post(reverse("kogaku_run_start"), {"month": "2026-07"})
    assert "計算中です" in again.content.decode()
    assert KogakuRun.objects.count() == 1

    kogaku_run_execute(run_id=run.pk)
    fragment = client.get(response.url, headers={"HX-Request": "true"})
    assert fragment["HX-Refresh"] == "true"
    assert "every 1s" not in fragment.content.decode()
    assert "完了" in fragment.content.decode()


def test_a_provisional_month_is_refused_with_the_reason_and_nothing_is_queued(client, clerk, city):
    response = client.post(reverse("kogaku_run_start"), {"month": "令和8年8月"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "2026-08 以降の限度額が未確定" in body
    assert not KogakuRun.objects.exists()
    future = client.post(reverse("kogaku_run_start"), {"month": "2099-01"})
    assert "前月以前" in future.content.decode()
    bad = client.post(reverse("kogaku_run_start"), {"month": "来月"})
    assert "診療月の形式が正しくありません" in bad.content.decode()


def test_the_run_page_lists_paid_households_with_their_status(
    client, clerk, city, django_assert_max_num_queries
):
    a, b = city
    run = _run()
    url = reverse("kogaku_run_detail", args=[run.pk])
    with django_assert_max_num_queries(20):
        page = client.get(url)
    body = page.content.decode()
    assert a.household.household_no in body and b.household.household_no in body
    assert "45,820 円" in body and "12,000 円" in body
    assert body.count("勧奨済") == 2
    assert "世帯合算" in body
    assert reverse("kogaku_result_detail", args=[_result(a).pk]) in body
    assert "未印刷 2 件" in body
    shown = AuditEvent.objects.filter(event_type=EventType.HOUSEHOLD_VIEWED).last()
    assert sorted(shown.extra["households_shown"]) == sorted(
        [a.household.household_no, b.household.household_no]
    )


def test_invitations_print_as_one_pdf_once(client, clerk, city):
    run = _run()
    response = client.post(reverse("kogaku_invitations_pdf", args=[run.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert "高額療養費支給申請のお知らせ" in text
    assert "45,820円" in text and "12,000円" in text
    assert "令和10年7月31日" in text  # 申請期限: two years from 2026-08-01
    assert KogakuInvitation.objects.filter(printed_at__isnull=True).count() == 0
    again = client.post(reverse("kogaku_invitations_pdf", args=[run.pk]))
    assert again.status_code == 302
    assert "印刷していない申請勧奨はありません" in client.get(again.url).content.decode()


def test_the_result_page_shows_the_explanation_and_the_clerk_applies_and_decides(
    client, clerk, city
):
    a, _ = city
    _run()
    result = _result(a)
    url = reverse("kogaku_result_detail", args=[result.pk])
    page = client.get(url).content.decode()
    assert "手順3 世帯全体の合算: 300,000円 − 限度額 254,180円" in page
    assert "45,820 円" in page and "勧奨済" in page
    assert a.name in page
    assert 'id="application-form"' in page and 'id="decide-form"' not in page

    response = _apply(client, result, simplify="on")
    assert response.status_code == 302
    application = KogakuApplication.objects.get(household=a.household, month=JULY)
    assert (application.applicant, application.received_on) == (a, dt.date(2026, 9, 1))
    assert application.simplification is not None
    page = client.get(url).content.decode()
    assert "申請受付" in page and "****567" in page
    assert 'id="decide-form"' in page and 'id="application-form"' not in page

    response = client.post(
        reverse("kogaku_decision_new", args=[result.pk]), {"decided_on": "R8.9.5"}
    )
    assert response.status_code == 302
    decision = KogakuDecision.objects.get(household=a.household, month=JULY)
    assert (decision.amount, decision.decided_on, decision.decided_by) == (
        45820,
        dt.date(2026, 9, 5),
        clerk,
    )
    page = client.get(url).content.decode()
    assert "決定済" in page and "令和8年9月5日" in page and "支払待ち" in page
    assert reverse("kogaku_decision_notice", args=[decision.pk]) in page


def test_application_errors_are_shown_and_nothing_is_stored(client, clerk, city):
    a, _ = city
    _run()
    result = _result(a)
    response = _apply(client, result, account_number="12345")
    assert response.status_code == 200
    assert "口座番号は7桁の数字です" in response.content.decode()
    assert not KogakuApplication.objects.exists()
    response = _apply(client, result, received_on="R8.2.30")
    assert "存在しない日付です" in response.content.decode()
    assert _apply(client, result).status_code == 302
    # Registered twice (another tab): the service's message, as is.
    response = _apply(client, result)
    assert "診療分の申請は受付済みです" in response.content.decode()


def test_deciding_without_an_application_shows_the_reason(client, clerk, city):
    a, _ = city
    _run()
    result = _result(a)
    response = client.post(reverse("kogaku_decision_new", args=[result.pk]), {"decided_on": ""})
    assert "決定日を入力してください" in response.content.decode()
    response = client.post(
        reverse("kogaku_decision_new", args=[result.pk]), {"decided_on": "R8.9.5"}
    )
    assert "支給申請が受け付けられていません" in response.content.decode()
    assert not KogakuDecision.objects.exists()


def test_payment_is_recorded_for_the_selected_decisions_and_the_notice_is_a_pdf(
    client, clerk, city
):
    a, b = city
    _run()
    for person in (a, b):
        result = _result(person)
        assert _apply(client, result).status_code == 302
        client.post(reverse("kogaku_decision_new", args=[result.pk]), {"decided_on": "R8.9.5"})
    first, second = KogakuDecision.objects.order_by("pk")
    page = client.get(reverse("kogaku_decisions")).content.decode()
    assert "45,820 円" in page and "12,000 円" in page and "****567" in page

    notice = client.get(reverse("kogaku_decision_notice", args=[first.pk]))
    assert notice["Content-Type"] == "application/pdf"
    text = _pdf_text(notice.content)
    assert "高額療養費支給決定通知書" in text
    assert "45,820円" in text and "申請による決定" in text and "****567" in text
    assert f"K202607-{first.pk:06d}" in text
    assert a.name.split()[0] in text
    assert "愛媛県国民健康保険審査会" in text.replace("\n", "")  # KOKUHO_PREFECTURE_NAME

    missing = client.post(reverse("kogaku_paid_new"), {"paid_on": "R8.9.20"})
    assert "支払った決定を選んでください" in missing.content.decode()
    response = client.post(
        reverse("kogaku_paid_new"), {"paid_on": "R8.9.20", "decisions": [str(first.pk)]}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.paid_on, second.paid_on) == (dt.date(2026, 9, 20), None)
    page = client.get(reverse("kogaku_decisions")).content.decode()
    assert "1 件の支払" in page
    assert "45,820 円" not in page and "12,000 円" in page
    result_page = client.get(reverse("kogaku_result_detail", args=[first.result_id]))
    assert "支払済" in result_page.content.decode()


def test_counter_staff_see_the_pages_but_change_nothing(client, city):
    a, _ = city
    run = _run()
    login_verified(client, make_staff(role=Role.COUNTER))
    result = _result(a)
    for url in (
        reverse("kogaku_runs"),
        reverse("kogaku_run_detail", args=[run.pk]),
        reverse("kogaku_result_detail", args=[result.pk]),
        reverse("kogaku_decisions"),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        body = page.content.decode()
        assert '<form method="post" action="/kogaku' not in body, url
    assert client.post(reverse("kogaku_run_start"), {"month": "R8.7"}).status_code == 403
    assert _apply(client, result).status_code == 403
    assert client.post(reverse("kogaku_invitations_pdf", args=[run.pk])).status_code == 403
    assert not KogakuApplication.objects.exists()
    assert KogakuRun.objects.count() == 1


def test_a_role_without_benefits_is_refused(client, city):
    a, _ = city
    _run()
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    page = client.get(reverse("kogaku_result_detail", args=[_result(a).pk]))
    assert page.status_code == 403
    assert a.name.encode() not in page.content
    assert client.get(reverse("kogaku_runs")).status_code == 403
    assert "高額療養費" not in client.get(reverse("search")).content.decode()


def test_the_nav_link_shows_for_benefits_staff(client, clerk):
    assert reverse("kogaku_runs") in client.get(reverse("search")).content.decode()

"""高額介護合算療養費 screens: the year's paid households from the yearly run, the application
of one (the account shown in 全銀 characters before it is kept), then decided on the 給付の
申請 screens; a second application, bad input and other roles are refused.

The household (as in benefits' test_gassan_yearly): A (66) and B (72), year 2025, 基準日
2026-07-31; excess 53,000 yen, paid."""

import datetime as dt

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.gassan.models import GassanResult
from kokuho.benefits.gassan.yearly import care_certificates_import, gassan_year_run
from kokuho.benefits.lifecycle.models import ApplicationStatus, BenefitApplication, BenefitDecision
from kokuho.payments.models import Benefit, PayeeAccount
from kokuho.testing import login_verified, make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

HEADER = "証明書番号,宛名番号,生年月日,計算期間開始年,介護保険者番号,介護自己負担額"
SEPT = dt.date(2025, 9, 1)
ACCOUNT = {
    "bank_code": "0001",
    "branch_code": "001",
    "account_type": "1",
    "account_number": "1234567",
    "holder_kana": "キュウフ タロウ",
}


@pytest.fixture
def result(tmp_path):
    a = make_insured(birth_date=dt.date(1960, 5, 1))
    b = make_insured(
        birth_date=dt.date(1954, 1, 10), household_no=a.household.household_no, relation="妻"
    )
    make_claim(person=a, service_month=SEPT, provider="3810000011", points=9000, copay=25000)
    make_claim(person=b, service_month=SEPT, provider="3810000011", points=2500, copay=5000)
    make_claim(person=b, service_month=dt.date(2026, 7, 1), points=4000, copay=8000)
    path = tmp_path / "care.csv"
    line = f"C0001,{b.atena_no},{b.birth_date},2025,389998,600000"
    path.write_text(f"{HEADER}\n{line}\n", encoding="utf-8")
    care_certificates_import(path=path)
    return GassanResult.objects.get(run=gassan_year_run(year=2025))


@pytest.fixture
def clerk(client):
    staff = make_staff(role=Role.BENEFITS)
    login_verified(client, staff)
    return staff


def _apply(client, result, data):
    return client.post(reverse("gassan_application_new", args=[result.pk]), data)


def _typed(**overrides):
    return {"received_on": "R8.12.1", "attachments": ["care_certificate"], **ACCOUNT} | overrides


def test_the_years_page_lists_each_years_newest_run(client, clerk, result):
    body = client.get(reverse("gassan_years")).content.decode()
    assert reverse("gassan_year", args=[2025]) in body
    assert "令和7年8月1日〜令和8年7月31日" in body
    assert "1 世帯" in body


def test_the_year_lists_the_paid_households_and_their_state(client, clerk, result):
    body = client.get(reverse("gassan_year", args=[2025])).content.decode()
    assert result.household.household_no in body
    assert "53,000 円" in body
    assert f"{result.medical_share:,} 円" in body and f"{result.care_share:,} 円" in body
    assert reverse("gassan_application_new", args=[result.pk]) in body
    shown = AuditEvent.objects.filter(event_type=EventType.HOUSEHOLD_VIEWED).last()
    assert shown.extra["households_shown"] == [result.household.household_no]
    assert client.get(reverse("gassan_year", args=[2024])).status_code == 404


def test_apply_shows_the_zengin_name_first_then_decides_on_the_application_page(
    client, clerk, result
):
    form = client.get(reverse("gassan_application_new", args=[result.pk])).content.decode()
    assert "医療保険の負担分（支給額）" in form and "ゆうちょ 記号" in form
    assert "自己負担額証明書" in form

    confirm = _apply(client, result, _typed()).content.decode()
    assert "ﾐｽﾞﾎ" in confirm and "東京営業部" in confirm and "ｷﾕｳﾌ ﾀﾛｳ" in confirm
    assert 'value="register"' in confirm and "令和8年7月31日" in confirm
    assert not BenefitApplication.objects.exists() and not PayeeAccount.objects.exists()

    saved = _apply(client, result, _typed(action="register"))
    application = BenefitApplication.objects.get()
    assert saved.status_code == 302
    assert saved.url == reverse("benefit_application_detail", args=[application.pk])
    assert (application.benefit, application.event_date) == (Benefit.GASSAN, dt.date(2026, 7, 31))
    assert application.facts["gassan_result"] == result.pk
    assert application.account.holder_zengin == "ｷﾕｳﾌ ﾀﾛｳ"
    year = client.get(reverse("gassan_year", args=[2025])).content.decode()
    assert reverse("benefit_application_detail", args=[application.pk]) in year
    assert "審査中" in year

    # Decided through the existing life cycle screen.
    decided = client.post(
        reverse("benefit_decision_new", args=[application.pk]),
        {"decided_on": "R8.12.5", "version": str(application.version)},
    )
    assert decided.status_code == 302
    decision = BenefitDecision.objects.get()
    assert (decision.outcome, decision.amount) == ("paid", result.medical_share)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DECIDED
    assert "決定済み" in client.get(reverse("gassan_year", args=[2025])).content.decode()


def test_a_second_application_of_the_household_year_is_refused(client, clerk, result):
    _apply(client, result, _typed(action="register"))
    first = BenefitApplication.objects.get()
    page = client.get(reverse("gassan_application_new", args=[result.pk])).content.decode()
    assert 'id="existing"' in page and 'id="application-form"' not in page
    again = _apply(client, result, _typed(action="register")).content.decode()
    assert 'id="existing"' in again and f"申請番号 {first.pk}（審査中）" in again
    assert BenefitApplication.objects.count() == 1


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"bank_code": "0002"}, "bank_code", "0002"),
        ({"received_on": "R8.13.1"}, "received_on", ""),
        ({"received_on": "R8.7.1"}, "received_on", "受付日が支給事由の日より前"),
        ({"attachments": ["nothing"]}, "attachments", ""),
    ],
)
def test_bad_input_is_shown_beside_its_field_and_nothing_is_kept(
    client, clerk, result, overrides, field, message
):
    response = _apply(client, result, _typed(action="register", **overrides))
    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="{field}-error"' in body, body
    assert message in body
    assert not BenefitApplication.objects.exists() and not PayeeAccount.objects.exists()


def _denied(client, method, url, data=None) -> None:
    before = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).count()
    assert method(url, data or {}).status_code == 403, url
    denied = AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED)
    assert denied.count() == before + 1 and denied.last().extra["path"] == url


def test_counter_staff_read_the_year_but_cannot_apply(client, result):
    login_verified(client, make_staff(role=Role.COUNTER))
    body = client.get(reverse("gassan_year", args=[2025])).content.decode()
    assert "未申請" in body
    assert reverse("gassan_application_new", args=[result.pk]) not in body
    url = reverse("gassan_application_new", args=[result.pk])
    _denied(client, client.get, url)
    _denied(client, client.post, url, _typed(action="register"))
    assert not BenefitApplication.objects.exists()


def test_a_role_without_benefits_sees_nothing(client, result):
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    for url in (reverse("gassan_years"), reverse("gassan_year", args=[2025])):
        _denied(client, client.get, url)

"""高額該当の引継ぎ screen: 給付担当 lists, records and withdraws a household's months carried
over from another city of the prefecture, with the services' messages on the form; 窓口担当
reads; a role without 給付の閲覧 is refused."""

import datetime as dt

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType, SubjectType
from kokuho.benefits.kogaku.carried import kogaku_carried_month_record
from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.models import KogakuCarriedMonth, KogakuResult
from kokuho.testing import login_verified, make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 1)
BASIS = "国保情報集約システム 高額該当情報 照会番号 R8-000123"


@pytest.fixture
def a():
    return make_insured(birth_date=dt.date(1970, 1, 10))


@pytest.fixture
def clerk(client):
    staff = make_staff(role=Role.BENEFITS)
    login_verified(client, staff)
    return staff


def _page(person) -> str:
    return reverse("kogaku_carried", args=[person.household.household_no])


def _record(client, person, **overrides):
    data = {"month": "R8.3", "former_insurer_number": "380014", "basis": BASIS} | overrides
    return client.post(reverse("kogaku_carried_new", args=[person.household.household_no]), data)


def _carried(person, month=MARCH) -> KogakuCarriedMonth:
    return kogaku_carried_month_record(
        household=person.household,
        month=month,
        former_insurer_number="380014",
        basis=BASIS,
        actor=None,
    )


def test_the_clerk_records_a_month_and_sees_it_listed(client, clerk, a):
    page = client.get(_page(a)).content.decode()
    assert "記録した月はありません" in page and 'id="carried-form"' in page
    assert a.name in page  # 世帯主

    response = _record(client, a)

    assert response.status_code == 302 and response.url == _page(a)
    carried = KogakuCarriedMonth.objects.get()
    assert (carried.household, carried.month, carried.recorded_by) == (a.household, MARCH, clerk)
    page = client.get(response.url).content.decode()
    assert "令和8年3月診療分を引継ぎとして記録しました" in page
    assert "令和8年3月" in page and "380014" in page and BASIS in page and "有効" in page
    assert reverse("kogaku_carried_withdraw", args=[a.household.household_no, carried.pk]) in page


def test_opening_the_page_is_recorded_as_a_household_view(client, clerk, a):
    client.get(_page(a))
    event = AuditEvent.objects.filter(event_type=EventType.HOUSEHOLD_VIEWED).last()
    assert (event.subject_type, event.subject_id) == (
        SubjectType.HOUSEHOLD,
        a.household.household_no,
    )
    assert event.extra == {"screen": "kogaku_carried", "members_shown": [a.atena_no]}
    assert event.actor_id == clerk.pk


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"month": "来月"}, "診療月の形式が正しくありません"),
        ({"month": ""}, "診療月を入力してください"),
        ({"month": "2099-01"}, "以前を指定してください"),
        ({"former_insurer_number": "380011"}, "検証番号が正しくありません"),
        ({"former_insurer_number": "389999"}, "当市の保険者番号です"),
        ({"former_insurer_number": "130005"}, "県内の市町村ではありません"),
        ({"former_insurer_number": "3800"}, "6桁の数字です"),
        ({"basis": ""}, "根拠（国保情報集約システムの照会番号等）を入力してください"),
    ],
)
def test_errors_are_shown_on_the_form_and_nothing_is_stored(client, clerk, a, overrides, message):
    response = _record(client, a, **overrides)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert 'id="carried-form"' in body
    assert not KogakuCarriedMonth.objects.exists()
    assert not AuditEvent.objects.filter(event_type=EventType.KOGAKU_CARRIED).exists()


def test_a_month_recorded_twice_shows_the_services_message(client, clerk, a):
    assert _record(client, a).status_code == 302
    again = _record(client, a, month="2026-03", former_insurer_number="３８００２２")
    assert "2026-03 診療分の引継ぎは記録済みです" in again.content.decode()
    assert KogakuCarriedMonth.objects.count() == 1


def test_the_clerk_withdraws_a_wrong_entry_with_a_reason(client, clerk, a):
    carried = _carried(a)
    url = reverse("kogaku_carried_withdraw", args=[a.household.household_no, carried.pk])

    missing = client.post(url, {"reason": ""})
    assert missing.status_code == 200
    assert "取消の理由を入力してください" in missing.content.decode()
    carried.refresh_from_db()
    assert carried.withdrawn_at is None

    response = client.post(url, {"reason": "照会番号の取り違え"})

    assert response.status_code == 302
    carried.refresh_from_db()
    assert (carried.withdrawn_by, carried.withdrawn_reason) == (clerk, "照会番号の取り違え")
    page = client.get(_page(a)).content.decode()
    assert "引継ぎを取り消しました" in page
    assert "取消済" in page and "照会番号の取り違え" in page
    assert url not in page  # no withdraw form for a withdrawn entry
    twice = client.post(url, {"reason": "重ねて"})
    assert "取消済みです" in twice.content.decode()


def test_an_entry_is_withdrawn_only_under_its_own_household(client, clerk, a):
    other = make_insured()
    carried = _carried(a)
    url = reverse("kogaku_carried_withdraw", args=[other.household.household_no, carried.pk])
    assert client.post(url, {"reason": "誤り"}).status_code == 404
    assert client.get(reverse("kogaku_carried", args=["0000000000"])).status_code == 404
    carried.refresh_from_db()
    assert carried.withdrawn_at is None


def test_the_runs_page_opens_a_household_by_its_number(client, clerk, a):
    runs = client.get(reverse("kogaku_runs")).content.decode()
    assert reverse("kogaku_carried_open") in runs
    number = a.household.household_no
    response = client.get(reverse("kogaku_carried_open"), {"household_no": f" {number} "})
    assert response.status_code == 302 and response.url == _page(a)
    unknown = client.get(reverse("kogaku_carried_open"), {"household_no": "nope"})
    assert unknown.url == reverse("kogaku_runs")
    assert "世帯番号「nope」の世帯が見つかりません" in client.get(unknown.url).content.decode()


def test_the_result_page_links_to_the_households_carried_months(client, clerk, a):
    july = dt.date(2026, 7, 1)
    make_claim(
        person=a, service_month=july, provider="3810000011", setting=1, points=100000, copay=300000
    )
    kogaku_run_execute(run_id=kogaku_run_create(month=july, actor=None).pk)
    result = KogakuResult.objects.get(household=a.household)
    page = client.get(reverse("kogaku_result_detail", args=[result.pk])).content.decode()
    assert _page(a) in page


def test_counter_staff_see_the_months_but_change_nothing(client, a):
    carried = _carried(a)
    login_verified(client, make_staff(role=Role.COUNTER))
    page = client.get(_page(a))
    assert page.status_code == 200
    body = page.content.decode()
    assert "380014" in body
    assert '<form method="post" action="/kogaku' not in body
    assert _record(client, a, month="R8.4").status_code == 403
    url = reverse("kogaku_carried_withdraw", args=[a.household.household_no, carried.pk])
    assert client.post(url, {"reason": "誤り"}).status_code == 403
    assert KogakuCarriedMonth.objects.count() == 1
    carried.refresh_from_db()
    assert carried.withdrawn_at is None


@pytest.mark.parametrize("role", [Role.ELIGIBILITY, Role.ADMINISTRATOR], ids=lambda r: r.name)
def test_a_role_without_benefits_is_refused(client, a, role):
    carried = _carried(a)
    login_verified(client, make_staff(role=role))
    page = client.get(_page(a))
    assert page.status_code == 403
    assert a.name.encode() not in page.content and b"380014" not in page.content
    assert client.get(reverse("kogaku_carried_open"), {"household_no": "x"}).status_code == 403
    assert _record(client, a, month="R8.4").status_code == 403
    url = reverse("kogaku_carried_withdraw", args=[a.household.household_no, carried.pk])
    assert client.post(url, {"reason": "誤り"}).status_code == 403
    assert KogakuCarriedMonth.objects.count() == 1
    assert not AuditEvent.objects.filter(event_type=EventType.HOUSEHOLD_VIEWED).exists()

"""届出 at the counter: preview with the real engine (nothing saved), then save."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.eligibility.models import EligibilityVersion
from kokuho.eligibility.selectors import eligibility_periods
from kokuho.people.models import OtherCoverage, Person
from kokuho.people.registry import ResidentData
from kokuho.testing import login_verified, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def insured():
    day = dt.date(2026, 4, 1)
    data = ResidentData("1000000101", "山田 太郎", "ヤマダ タロウ", dt.date(1980, 5, 10), 1)
    event = ChangeEvent(ChangeType.MOVE_IN, day, day, data.atena_no, "5000000101", "世帯主", data)
    event_apply(event, recorded_at=timezone.now(), actor=None)
    return Person.objects.get(atena_no=data.atena_no)


@pytest.fixture
def clerk(client):
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    return client


def test_preview_shows_the_loss_and_saves_nothing(clerk, insured):
    url = reverse("notification_new", args=[insured.atena_no])
    response = clerk.post(
        url,
        {
            "type": "employee_insurance_join",
            "date": "R8.6.15",
            "reported_on": "2026-06-20",
            "action": "preview",
        },
    )
    body = response.content.decode()
    assert "山田 太郎: 資格喪失 2026-06-16（社会保険加入）" in body
    assert not OtherCoverage.objects.filter(person=insured).exists()
    assert EligibilityVersion.objects.filter(person=insured).count() == 1


def test_save_applies_the_notification(clerk, insured):
    url = reverse("notification_new", args=[insured.atena_no])
    response = clerk.post(
        url,
        {
            "type": "employee_insurance_join",
            "date": "2026-06-15",
            "reported_on": "2026-06-20",
            "action": "save",
        },
    )
    assert response.status_code == 302
    assert eligibility_periods(person=insured)[0].end == dt.date(2026, 6, 15)


def test_a_late_report_is_flagged_in_the_preview(clerk, insured):
    url = reverse("notification_new", args=[insured.atena_no])
    response = clerk.post(
        url,
        {
            "type": "employee_insurance_join",
            "date": "2026-06-15",
            "reported_on": "2026-09-01",
            "action": "preview",
        },
    )
    assert "届出期限（14日）を過ぎています" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "employee_insurance_join", "date": "2026-02-30"}, "事実発生日"),
        (
            {"type": "welfare_start", "date": "2026-06-15", "reported_on": "2026-06-01"},
            "届出日が事実発生日より前",
        ),
        ({"type": "employee_insurance_leave", "date": "1970-01-01"}, "開始日"),
    ],
)
def test_bad_input_gets_a_japanese_message(clerk, insured, data, message):
    if data["type"] == "employee_insurance_leave":
        OtherCoverage.objects.create(
            person=insured,
            kind="employee_insurance",
            start=dt.date(2026, 6, 1),
            recorded_at=timezone.now(),
        )
    response = clerk.post(
        reverse("notification_new", args=[insured.atena_no]), {**data, "action": "preview"}
    )
    assert response.status_code == 200
    assert message in response.content.decode()


def test_the_person_page_shows_periods_numbers_and_corrections(clerk, insured):
    event = ChangeEvent(
        ChangeType.EMPLOYEE_INSURANCE_JOIN,
        dt.date(2026, 6, 15),
        dt.date(2026, 9, 1),
        insured.atena_no,
    )
    event_apply(event, recorded_at=timezone.now(), actor=None)
    body = clerk.get(reverse("person_detail", args=[insured.atena_no])).content.decode()
    assert "令和8年4月1日（2026-04-01）" in body  # 資格取得日
    assert "令和8年6月16日（2026-06-16）" in body  # 資格喪失日 = the day after
    assert "遡及訂正" in body
    assert "10・000001・01" in body

from datetime import date

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.testing import make_household, make_person, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def counter(client):
    client.force_login(make_staff(role=Role.COUNTER))
    return client


@pytest.fixture
def family():
    household = make_household()
    child = make_person(
        name="山田 一郎",
        kana="ヤマダ イチロウ",
        birth_date=date(2021, 4, 2),
        household=household,
        relation="子",
    )
    head = make_person(name="山田 太郎", kana="ヤマダ タロウ", household=household)
    return household, head, child


def test_search_by_kana_lists_and_audits(counter, family):
    _, head, child = family
    response = counter.get(reverse("search"), {"kana": "ﾔﾏﾀﾞ"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "山田 太郎" in body and "山田 一郎" in body
    event = AuditEvent.objects.get(event_type=EventType.PERSON_SEARCHED)
    assert set(event.extra["shown"]) == {head.atena_no, child.atena_no}
    assert event.purpose == "nhi_eligibility"


@pytest.mark.parametrize(
    ("birth", "message"),
    [("S64.1.8", "昭和"), ("2026-02-30", "日付"), ("あいう", "日付の形式"), ("H0.1.1", "")],
)
def test_a_malformed_birth_date_gets_a_japanese_message_not_a_500(counter, family, birth, message):
    response = counter.get(reverse("search"), {"birth": birth})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="error"' in body and "生年月日:" in body and message in body
    assert not AuditEvent.objects.filter(event_type=EventType.PERSON_SEARCHED).exists()


@pytest.mark.parametrize("birth", ["S35.5.10", "昭和35年5月10日", "1960-05-10", "Ｓ３５．５．１０"])
def test_search_by_birth_date_accepts_wareki_and_seireki(counter, family, birth):
    response = counter.get(reverse("search"), {"birth": birth})
    assert "山田 太郎" in response.content.decode()
    assert "山田 一郎" not in response.content.decode()


def test_kanji_in_the_kana_field_is_refused(counter, family):
    response = counter.get(reverse("search"), {"kana": "山田"})
    assert "カタカナまたはひらがな" in response.content.decode()


def test_non_numeric_atena_number_is_refused(counter, family):
    response = counter.get(reverse("search"), {"atena_no": "12a"})
    assert "数字で入力" in response.content.decode()


def test_htmx_gets_only_the_results_fragment(counter, family):
    response = counter.get(reverse("search"), {"kana": "ヤマダ"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert "<html" not in body and "山田 太郎" in body


def test_person_page_shows_wareki_with_seireki_and_audits(counter, family):
    _, head, _ = family
    response = counter.get(reverse("person_detail", args=[head.atena_no]))
    body = response.content.decode()
    assert "昭和35年5月10日（1960-05-10）" in body
    event = AuditEvent.objects.get(event_type=EventType.PERSON_VIEWED)
    assert event.subject_id == head.atena_no
    assert event.extra["screen"] == "person_detail"


def test_household_page_lists_the_head_first_and_audits(counter, family):
    household, head, child = family
    response = counter.get(reverse("household_detail", args=[household.household_no]))
    body = response.content.decode()
    assert body.index("山田 太郎") < body.index("山田 一郎")
    assert "令和3年4月2日（2021-04-02）" in body
    event = AuditEvent.objects.get(event_type=EventType.HOUSEHOLD_VIEWED)
    assert event.extra["members_shown"] == [head.atena_no, child.atena_no]


def test_an_unknown_purpose_is_refused_and_logged(counter, family):
    _, head, _ = family
    response = counter.get(reverse("person_detail", args=[head.atena_no]), {"purpose": "tax"})
    assert response.status_code == 400
    assert "山田 太郎" not in response.content.decode()
    assert AuditEvent.objects.filter(event_type=EventType.PURPOSE_REFUSED).exists()
    assert not AuditEvent.objects.filter(event_type=EventType.PERSON_VIEWED).exists()


def test_an_unknown_person_is_a_404_without_an_access_event(counter):
    response = counter.get(reverse("person_detail", args=["0000000000"]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(event_type=EventType.PERSON_VIEWED).exists()


def test_pages_are_not_cached(counter, family):
    _, head, _ = family
    response = counter.get(reverse("person_detail", args=[head.atena_no]))
    assert "no-store" in response.headers.get("Cache-Control", "")

"""The 個人番号 panel: masked for staff who may see the person, refused otherwise; the
number never in a URL nor sent back after a refused registration."""

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.identity.services import my_number_register
from kokuho.identity.tests.conftest import synthetic_my_number, vault_key_file  # noqa: F401
from kokuho.testing import make_person, make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


@pytest.fixture
def registered():
    person, number = make_person(), synthetic_my_number()
    my_number_register(
        actor=make_staff(role=Role.ELIGIBILITY),
        atena_no=person.atena_no,
        my_number=number,
        purpose="nhi_eligibility",
        number_check="my_number_card",
        identity_checks=["drivers_license"],
    )
    return person, number


def test_the_person_page_loads_a_masked_panel(client, registered):
    person, number = registered
    client.force_login(make_staff(role=Role.COUNTER))
    page = client.get(reverse("person_detail", args=[person.atena_no])).content.decode()
    panel_url = reverse("my_number_panel", args=[person.atena_no])
    assert panel_url in page
    panel = client.get(panel_url, {"purpose": "nhi_eligibility"})
    body = panel.content.decode()
    assert panel.status_code == 200 and f"**** **** {number[-4:]}" in body
    assert number not in body
    assert "個人番号を表示" not in body  # 窓口担当 has no right to reveal


def test_a_purpose_outside_the_role_shows_a_refusal_and_is_logged(client, registered):
    person, number = registered
    client.force_login(make_staff(role=Role.COUNTER))
    panel = client.get(
        reverse("my_number_panel", args=[person.atena_no]), {"purpose": "online_eligibility"}
    )
    body = panel.content.decode()
    assert "個人番号を利用できません" in body and number[-4:] not in body
    assert AuditEvent.objects.filter(event_type=EventType.MY_NUMBER_REFUSED).count() == 1


def test_reveal_is_not_even_routed_for_a_role_without_the_right(client, registered):
    person, _number = registered
    client.force_login(make_staff(role=Role.COUNTER))
    response = client.post(
        reverse("my_number_reveal", args=[person.atena_no]),
        {"purpose": "nhi_eligibility", "reason": "確認のため"},
    )
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(event_type=EventType.MY_NUMBER_REVEALED).exists()


def test_a_verified_eligibility_clerk_reveals_with_a_reason_once(client, registered):
    from kokuho.testing import login_verified

    person, number = registered
    clerk = make_staff(role=Role.ELIGIBILITY)
    login_verified(client, clerk)
    panel = client.get(reverse("my_number_panel", args=[person.atena_no])).content.decode()
    assert "個人番号を表示" in panel and number not in panel
    url = reverse("my_number_reveal", args=[person.atena_no])
    assert number not in url
    refused = client.post(url, {"purpose": "nhi_eligibility", "reason": ""})
    assert refused.status_code == 200 and number not in refused.content.decode()  # form error
    shown = client.post(url, {"purpose": "nhi_eligibility", "reason": "情報照会の確認"})
    body = shown.content.decode()
    assert shown.status_code == 200
    assert f"{number[:4]} {number[4:8]} {number[8:]}" in body
    assert "no-store" in shown["Cache-Control"]
    (event,) = AuditEvent.objects.filter(event_type=EventType.MY_NUMBER_REVEALED)
    assert event.actor_id == clerk.pk and event.extra["reason"] == "情報照会の確認"


def test_a_clerk_whose_session_skipped_the_second_factor_cannot_reach_the_reveal(
    client, registered
):
    person, number = registered
    client.force_login(make_staff(role=Role.ELIGIBILITY))  # password only, no TOTP yet
    response = client.post(
        reverse("my_number_reveal", args=[person.atena_no]),
        {"purpose": "nhi_eligibility", "reason": "確認のため"},
    )
    assert response.status_code in (302, 200) and number not in response.content.decode()
    assert not AuditEvent.objects.filter(event_type=EventType.MY_NUMBER_REVEALED).exists()


def test_registration_on_screen_records_the_checks_and_never_echoes_the_number(
    client,
    vault_key_file,  # noqa: F811
):
    from kokuho.testing import login_verified

    person, number = make_person(), synthetic_my_number()
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    url = reverse("my_number_register", args=[person.atena_no])
    wrong = number[:11] + str((int(number[11]) + 1) % 10)
    bad = client.post(
        url,
        {
            "purpose": "nhi_eligibility",
            "my_number": wrong,
            "number_check": "my_number_card",
            "identity_checks": ["my_number_card"],
        },
    )
    assert bad.status_code == 400 and wrong not in bad.content.decode()
    good = client.post(
        url,
        {
            "purpose": "nhi_eligibility",
            "my_number": number,
            "number_check": "my_number_card",
            "identity_checks": ["my_number_card"],
        },
    )
    body = good.content.decode()
    assert good.status_code == 200 and "登録しました" in body
    assert f"**** **** {number[-4:]}" in body and number not in body

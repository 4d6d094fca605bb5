"""重大事故等 screens: only 監査担当 reaches them; register, timeline and reports on screen."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.permissions import ROLE_PERMISSIONS, Perm, Role
from kokuho.audit.models import AuditEvent, EventType, Incident, IncidentKind
from kokuho.audit.services import incident_open
from kokuho.testing import login_verified, make_staff

pytestmark = pytest.mark.django_db

TITLE = "試験用の誤送付事案"


def _incident(actor) -> Incident:
    return incident_open(
        title=TITLE,
        description="試験データ",
        discovered_at=timezone.make_aware(dt.datetime(2025, 6, 2, 10)),
        kind=IncidentKind.LEAK,
        wrongful_intent=False,
        includes_my_number=False,
        reportable=True,
        actor=actor,
    )


@pytest.fixture
def auditor(client):
    staff = make_staff(role=Role.AUDITOR)
    client.force_login(staff)
    return staff


def _requests(incident: Incident) -> list[tuple[str, str, dict]]:
    pk = incident.pk
    return [
        ("get", reverse("incident_list"), {}),
        ("get", reverse("incident_new"), {}),
        ("get", reverse("incident_detail", args=[pk]), {}),
        ("post", reverse("incident_note", args=[pk]), {"text": "経過"}),
        ("post", reverse("incident_mark", args=[pk]), {"action": "preliminary"}),
    ]


@pytest.mark.parametrize("role", list(Role), ids=[r.name for r in Role])
def test_only_the_incident_permission_reaches_the_screens(client, role):
    incident = _incident(make_staff(role=Role.AUDITOR))
    # Past the second factor where the role has one: this test is about the permission.
    login_verified(client, make_staff(role=role))
    allowed = Perm.INCIDENT_MANAGE in ROLE_PERMISSIONS[role]
    assert allowed is (role == Role.AUDITOR)
    for method, url, data in _requests(incident):
        response = getattr(client, method)(url, data)
        if allowed:
            assert response.status_code in (200, 302), (url, response.status_code)
        else:
            assert response.status_code == 403, (role, url, response.status_code)
            assert TITLE.encode() not in response.content
    incident.refresh_from_db()
    assert (incident.preliminary_reported_at is not None) is allowed
    assert incident.notes.exists() is allowed


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("incident_list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_menu_shows_the_register_to_the_auditor(client, auditor):
    body = client.get(reverse("incident_list")).content.decode()
    assert reverse("incident_list") in body and "重大事故等" in body


def test_an_incident_is_registered_from_the_form_with_a_wareki_date(client, auditor):
    data = {
        "title": "委託先での書類の紛失",
        "description": "試験データ",
        "kind": IncidentKind.LOSS,
        "discovered_on": "R7.6.2",
        "discovered_time": "14:30",
        "wrongful_intent": "on",
        "persons_affected": "12",
        "reportable": "on",
    }
    response = client.post(reverse("incident_new"), data)
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("incident_detail", args=[incident.pk])
    assert timezone.localtime(incident.discovered_at) == timezone.make_aware(
        dt.datetime(2025, 6, 2, 14, 30)
    )
    assert incident.wrongful_intent and incident.reportable and incident.persons_affected == 12
    assert incident.created_by == auditor
    assert AuditEvent.objects.filter(event_type=EventType.INCIDENT_OPENED).count() == 1
    body = client.get(response.url).content.decode()
    assert "令和7年6月2日（2025-06-02）" in body
    assert "令和7年6月7日（2025-06-07）" in body  # 速報
    assert "令和7年8月1日（2025-08-01）" in body  # 確報: 60 days, wrongful intent
    assert "期限超過" in body


def test_a_bad_date_is_shown_on_the_form(client, auditor):
    data = {"title": "x", "description": "y", "kind": "leak", "discovered_on": "R7.2.30"}
    response = client.post(reverse("incident_new"), data)
    assert response.status_code == 200 and not Incident.objects.exists()
    assert "error" in response.content.decode()


def test_notes_and_reports_are_recorded_from_the_detail_page(client, auditor):
    incident = _incident(auditor)
    client.post(reverse("incident_note", args=[incident.pk]), {"text": "委員会へ第一報"})
    client.post(
        reverse("incident_mark", args=[incident.pk]),
        {"action": "preliminary", "on": "2025-06-04", "time": "16:00"},
    )
    incident.refresh_from_db()
    assert timezone.localtime(incident.preliminary_reported_at) == timezone.make_aware(
        dt.datetime(2025, 6, 4, 16)
    )
    body = client.get(reverse("incident_detail", args=[incident.pk])).content.decode()
    assert "委員会へ第一報" in body and "令和7年6月4日（2025-06-04）" in body
    assert 'value="final"' in body  # the next report's button


def test_a_refused_change_is_explained(client, auditor):
    incident = _incident(auditor)
    response = client.post(
        reverse("incident_mark", args=[incident.pk]), {"action": "close", "note": "完了"}
    )
    assert response.status_code == 400
    assert "確報と本人通知を記録するまで終結できません" in response.content.decode()
    incident.refresh_from_db()
    assert incident.closed_at is None

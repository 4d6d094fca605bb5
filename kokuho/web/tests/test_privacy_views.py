"""開示等請求 screens and the export register: receive, decide, produce — and who may not."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from kokuho.accounts.permissions import ROLE_PERMISSIONS, Perm, Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.interfaces.models import ExportRecord
from kokuho.subject_requests.models import RequestStatus, SubjectRequest
from kokuho.testing import login_verified, make_person, make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


@pytest.fixture(autouse=True)
def _vault_keys(tmp_path, settings):
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"


def _receive(client, person) -> SubjectRequest:
    response = client.post(
        reverse("subject_request_list"),
        {
            "kind": "disclosure",
            "atena_no": person.atena_no,
            "received_on": "R8.11.2",
            "requester": "self",
            "identity_documents": "マイナンバーカード",
            "details": "保有する自己の情報の全部",
        },
    )
    request = SubjectRequest.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("subject_request_detail", args=[request.pk])
    return request


def test_the_clerk_receives_decides_and_produces_the_disclosure(client):
    person = make_person(name="画面 試験子", kana="ガメン シケンコ")
    clerk = make_staff(role=Role.ELIGIBILITY)
    login_verified(client, clerk)
    request = _receive(client, person)
    page = client.get(reverse("subject_request_detail", args=[request.pk]))
    assert "令和8年12月2日" in page.content.decode()  # 30 days after R8.11.2

    response = client.post(
        reverse("subject_request_detail", args=[request.pk]),
        {"outcome": "disclosed", "decided_on": "2026-11-20", "reason": ""},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.DECIDED

    download = client.post(reverse("disclosure_download", args=[request.pk, "pdf"]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="kaiji-{request.pk}.pdf"'
    assert "no-store" in download["Cache-Control"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(download.content)).pages)
    assert "画面 試験子" in text
    assert ExportRecord.objects.count() == 1


def test_a_bad_date_is_shown_on_the_form_and_nothing_is_recorded(client):
    person = make_person()
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    response = client.post(
        reverse("subject_request_list"),
        {
            "kind": "correction",
            "atena_no": person.atena_no,
            "received_on": "R8.13.40",
            "requester": "self",
            "identity_documents": "運転免許証",
            "details": "住所",
        },
    )
    assert response.status_code == 200
    assert not SubjectRequest.objects.exists()
    assert "請求日" in response.content.decode()


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ELIGIBILITY])
def test_other_roles_cannot_reach_the_requests_or_produce_a_disclosure(client, role):
    assert Perm.SUBJECT_REQUEST_MANAGE not in ROLE_PERMISSIONS[role]
    person = make_person()
    clerk = make_staff(role=Role.ELIGIBILITY)
    login_verified(client, clerk)
    request = _receive(client, person)
    client.logout()
    login_verified(client, make_staff(role=role))
    assert client.get(reverse("subject_request_list")).status_code == 403
    response = client.post(reverse("disclosure_download", args=[request.pk, "json"]))
    assert response.status_code == 403
    assert not ExportRecord.objects.exists()


def test_the_export_register_is_the_auditors(client):
    person = make_person()
    clerk = make_staff(role=Role.ELIGIBILITY)
    login_verified(client, clerk)
    request = _receive(client, person)
    client.post(reverse("disclosure_download", args=[request.pk, "json"]))
    assert client.get(reverse("export_register")).status_code == 403
    client.logout()
    login_verified(client, make_staff(role=Role.AUDITOR))
    page = client.get(reverse("export_register"))
    assert page.status_code == 200
    record = ExportRecord.objects.get()
    assert record.file_sha256[:16] in page.content.decode()
    assert AuditEvent.objects.filter(event_type=EventType.DISCLOSURE_PRODUCED).count() == 1

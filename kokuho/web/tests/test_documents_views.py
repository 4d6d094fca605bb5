"""証・通知 screens: a person's documents, counter issuance and printing, 認定証 applications,
returns, the renewal — and who may not."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.certificates.models import (
    DocumentStatus,
    DocumentType,
    IssuedDocument,
    MynaRegistration,
    MynaStatus,
    RenewalRun,
)
from kokuho.core.wareki import format_wareki
from kokuho.testing import login_verified, make_insured, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(client):
    staff = make_staff(role=Role.ELIGIBILITY)
    login_verified(client, staff)
    return staff


def _issue(client, person, reason="new", delivery="counter"):
    return client.post(
        reverse("documents_issue_basic", args=[person.atena_no]),
        {"reason": reason, "delivery": delivery},
    )


def test_issue_at_the_counter_and_print(client, clerk):
    person = make_insured(birth_date=dt.date(1980, 5, 10))
    response = _issue(client, person)
    assert response.status_code == 302
    document = IssuedDocument.objects.get(person=person)
    assert document.doc_type == DocumentType.KAKUNINSHO
    page = client.get(reverse("documents_person", args=[person.atena_no]))
    assert page.status_code == 200
    text = page.content.decode()
    assert document.serial in text
    assert "資格確認書" in text
    pdf = client.get(reverse("document_pdf", args=[document.serial]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    extracted = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert document.serial in extracted
    assert AuditEvent.objects.filter(
        event_type=EventType.CERTIFICATE_PRINTED, subject_id=person.atena_no
    ).exists()


def test_second_new_issue_shows_the_reason_on_the_form(client, clerk):
    person = make_insured()
    _issue(client, person)
    response = _issue(client, person)
    assert response.status_code == 200
    assert "再交付か記載事項変更を選んでください" in response.content.decode()
    assert IssuedDocument.objects.filter(person=person).count() == 1


def test_myna_status_decides_the_document(client, clerk):
    person = make_insured()
    response = client.post(
        reverse("documents_myna", args=[person.atena_no]),
        {"status": MynaStatus.REGISTERED, "as_of": format_wareki(timezone.localdate())},
    )
    assert response.status_code == 302
    assert MynaRegistration.objects.get(person=person).status == MynaStatus.REGISTERED
    _issue(client, person)
    assert IssuedDocument.objects.get(person=person).doc_type == DocumentType.OSHIRASE


def test_certificate_application_refused_is_explained(client, clerk):
    person = make_insured()  # no income recorded: 未申告 → ア, so 減額 is refused
    response = client.post(
        reverse("documents_certificate", args=[person.atena_no]),
        {
            "doc_type": DocumentType.GENGAKU,
            "applied_on": format_wareki(timezone.localdate()),
            "delivery": "counter",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "申請を却下しました" in response.content.decode()
    assert "住民税非課税世帯ではありません" in response.content.decode()
    assert not IssuedDocument.objects.filter(person=person).exists()


def test_return_recorded_from_the_list(client, clerk):
    person = make_insured()
    _issue(client, person)
    _issue(client, person, reason="reissue")
    old = IssuedDocument.objects.filter(person=person).order_by("pk").first()
    listing = client.get(reverse("documents_returns"))
    assert old.serial in listing.content.decode()
    response = client.post(
        reverse("document_return", args=[old.serial]),
        {"returned_on": format_wareki(timezone.localdate()), "from": "returns"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("documents_returns")
    old.refresh_from_db()
    assert old.status == DocumentStatus.RETURNED
    table = client.get(reverse("documents_returns")).content.decode().split('id="returns"')[1]
    assert old.serial not in table


def test_renewal_is_queued_from_the_screen(client, clerk):
    response = client.post(reverse("documents_renewal_start"), {"renewal_date": "R9.8.1"})
    run = RenewalRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("documents_renewal_detail", args=[run.pk])
    assert run.renewal_date == dt.date(2027, 8, 1)
    assert run.task_id
    page = client.get(reverse("documents_renewal_detail", args=[run.pk]))
    assert "待機中" in page.content.decode()


def test_bad_renewal_date_is_shown(client, clerk):
    response = client.post(reverse("documents_renewal_start"), {"renewal_date": "令和8年13月1日"})
    assert response.status_code == 200
    assert not RenewalRun.objects.exists()


@pytest.mark.parametrize("role", [Role.COUNTER, Role.BENEFITS, Role.AUDITOR])
def test_changes_need_the_eligibility_right(client, role):
    person = make_insured()
    staff = make_staff(role=role)
    login_verified(client, staff)
    assert _issue(client, person).status_code == 403
    assert (
        client.post(reverse("documents_renewal_start"), {"renewal_date": "R9.8.1"}).status_code
        == 403
    )
    assert not IssuedDocument.objects.exists()
    assert not RenewalRun.objects.exists()


def test_auditor_cannot_read_documents(client):
    person = make_insured()
    login_verified(client, make_staff(role=Role.AUDITOR))
    assert client.get(reverse("documents_person", args=[person.atena_no])).status_code == 403


def test_the_category_is_printed_when_the_person_asks(client, clerk):
    person = make_insured()
    client.post(
        reverse("documents_issue_basic", args=[person.atena_no]),
        {"reason": "new", "delivery": "counter", "show_category": "on"},
    )
    document = IssuedDocument.objects.get(person=person)
    assert document.printed["show_category"] is True
    plain = make_insured()
    _issue(client, plain)

    def text(person):
        serial = IssuedDocument.objects.get(person=person).serial
        pdf = client.get(reverse("document_pdf", args=[serial]))
        return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)

    # The notes always mention the 区分 (how to ask for it); the card's row is extra.
    assert text(person).count("限度額適用区分") == text(plain).count("限度額適用区分") + 1

"""返還のお願い on the returns list: the count, the print for 資格担当, and who may not."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from kokuho.accounts.permissions import Role
from kokuho.certificates.models import Delivery, IssueReason
from kokuho.certificates.return_letters import TITLE
from kokuho.certificates.services import basic_document_issue
from kokuho.core.wareki import format_both
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.testing import login_verified, make_insured, make_staff

pytestmark = pytest.mark.django_db


def _card_asked_back():
    person = make_insured()
    card = basic_document_issue(
        person=person,
        on=timezone.localdate(),
        reason=IssueReason.NEW,
        delivery=Delivery.COUNTER,
        actor=None,
    )
    today = timezone.localdate()
    event_apply(
        ChangeEvent(ChangeType.MOVE_OUT, today, today, person.atena_no),
        recorded_at=timezone.now(),
        actor=None,
    )
    return card


def test_the_clerk_prints_the_letters_and_the_list_shows_them_sent(client):
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    card = _card_asked_back()
    listing = client.get(reverse("documents_returns")).content.decode()
    assert "返還のお願いを印刷（1 通）" in listing
    table = listing.split('id="returns"')[1]
    assert "未送付" in table
    today = format_both(timezone.localdate())
    dates_before = table.count(today)
    response = client.post(reverse("documents_return_letters"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert TITLE in text and card.serial in text
    listing = client.get(reverse("documents_returns")).content.decode()
    assert "返還のお願いを印刷" not in listing
    table = listing.split('id="returns"')[1]
    assert "未送付" not in table
    assert table.count(today) == dates_before + 1  # the letter's date


def test_nothing_due_redirects_with_a_message(client):
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    response = client.post(reverse("documents_return_letters"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("documents_returns")
    assert "印刷する返還のお願いはありません" in response.content.decode()


def test_the_counter_may_not_print_them(client):
    login_verified(client, make_staff(role=Role.COUNTER))
    card = _card_asked_back()
    response = client.post(reverse("documents_return_letters"))
    assert response.status_code == 403
    card.refresh_from_db()
    assert card.return_letter_on is None


def test_a_get_is_not_allowed(client):
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    assert client.get(reverse("documents_return_letters")).status_code == 405

"""保留・振込不能の支払 and 口座の訂正 for a payee that is an organisation (施術所): listed by its
name and code, with no household shown, and corrected onto the organisation's account."""

import datetime as dt

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.payments.models import Benefit, OrganisationKind, PayeeAccount, PaymentStatus
from kokuho.payments.services import payee_organisation_record, payment_schedule
from kokuho.testing import login_verified, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(client):
    staff = make_staff(role=Role.BENEFITS)
    login_verified(client, staff)
    return staff


@pytest.fixture
def waiting():
    clinic = payee_organisation_record(
        kind=OrganisationKind.PRACTITIONER, code="1234567", name="みかん接骨院", actor=None
    )
    return payment_schedule(
        benefit=Benefit.JUSEI,
        source_type="entrusted_payee",
        source_id=1,
        organisation=clinic,
        account=None,
        amount=12600,
        decided_on=dt.date(2026, 12, 1),
    )


def test_the_held_list_names_the_organisation_and_why_it_waits(client, clerk, waiting):
    page = client.get(reverse("payments_held")).content.decode()
    assert "みかん接骨院" in page and "施術所:1234567" in page
    assert "振込先口座の届出がない" in page and "（届出なし）" in page


def test_the_account_is_corrected_onto_the_organisation(client, clerk, waiting):
    url = reverse("payment_account_correct", args=[waiting.pk])
    assert "みかん接骨院（施術所:1234567）" in client.get(url).content.decode()
    form = {"bank_code": "0001", "branch_code": "001", "account_type": "1",
            "account_number": "1111111", "holder_kana": "ミカンセツコツイン"}  # fmt: skip
    response = client.post(url, {**form, "action": "save"})
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.status == PaymentStatus.DUE
    assert (
        PayeeAccount.objects.get(pk=waiting.account_id).organisation_id == waiting.organisation_id
    )

"""The person as the hub (issue 17): the 給付 section of a resident's page lists the
household's 高額療養費 months (the standing decision of each), the benefit applications
the person is the subject or applicant of, and the payments made out to them — each with
its count and a link, shown only when the page is opened for 保険給付, and the screens the
rows lead to link back to the person."""

import datetime as dt

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.retention.tests.benefit_builders import (
    account,
    benefit_application,
    kogaku_chain,
    payment_due,
)
from kokuho.testing import login_verified, make_insured, make_staff
from kokuho.web.selectors_hub import LIMIT, person_benefits

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident():
    return make_insured(birth_date=dt.date(1970, 4, 2), moved_in=dt.date(2020, 4, 1))


def _history(person):
    staff = make_staff(role=Role.BENEFITS, username="kyufu-builder")
    kogaku_chain(person=person, staff=staff, month=dt.date(2026, 3, 1), decided=[
        dt.date(2026, 6, 10), dt.date(2026, 8, 1)])  # fmt: skip
    kogaku_chain(person=person, staff=staff, month=dt.date(2026, 5, 1), decided=[
        dt.date(2026, 7, 10)])  # fmt: skip
    application = benefit_application(
        person=person, staff=staff, received=dt.date(2026, 6, 1), decided=[dt.date(2026, 6, 5)]
    )
    kept = account(person, recorded=dt.date(2026, 6, 1))
    payment_due(person=person, account=kept, decided=dt.date(2026, 6, 5), amount=50000)
    return application


def _page(client, person, purpose="nhi_benefits"):
    url = reverse("person_detail", args=[person.atena_no]) + f"?purpose={purpose}"
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_standing_decisions_applications_and_payments_with_counts(resident):
    _history(resident)
    other = make_insured(birth_date=dt.date(1980, 1, 1), moved_in=dt.date(2020, 4, 1))
    found = person_benefits(person=resident)
    # March's chain has a 変更決定: one row for the month, the change standing.
    assert [(k.month, k.amount, k.changed) for k in found.kogaku] == [
        (dt.date(2026, 5, 1), 50000, False),
        (dt.date(2026, 3, 1), 51000, True),
    ]
    assert (found.kogaku_count, found.application_count, found.payment_count) == (2, 1, 1)
    assert found.applications[0].role == "対象者" and found.applications[0].amount == 50000
    assert found.payments[0].amount == 50000 and not found.payments[0].held
    assert person_benefits(person=other).empty


def test_the_page_shows_them_for_benefits_and_offers_the_switch_otherwise(client, resident):
    application = _history(resident)
    login_verified(client, make_staff(role=Role.BENEFITS))
    body = _page(client, resident)
    assert 'id="kogaku-count">2件' in body and 'id="application-count">1件' in body
    assert 'id="payment-count">1件' in body
    assert "51,000 円" in body and "（変更決定）" in body and "葬祭費" in body
    assert reverse("benefit_application_detail", args=[application.pk]) in body
    # Opened for 資格, benefits are not shown: the page offers to open it for 給付.
    eligibility = _page(client, resident, purpose="nhi_eligibility")
    assert 'id="benefits"' not in eligibility and 'id="benefits-link"' in eligibility
    # The application links back to its person.
    detail = client.get(reverse("benefit_application_detail", args=[application.pk]))
    person_url = reverse("person_detail", args=[resident.atena_no])
    assert f'href="{person_url}?purpose=nhi_benefits" id="subject-link"' in detail.content.decode()


def test_a_role_without_benefits_sees_neither_the_section_nor_the_switch(client, resident):
    _history(resident)
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    body = _page(client, resident, purpose="nhi_eligibility")
    assert 'id="benefits"' not in body and 'id="benefits-link"' not in body


def test_a_long_history_shows_the_newest_and_says_how_many(resident):
    staff = make_staff(role=Role.BENEFITS, username="kyufu-long")
    months = [dt.date(2020 + i // 12, i % 12 + 1, 1) for i in range(LIMIT + 3)]
    for month in months:
        kogaku_chain(person=resident, staff=staff, month=month, decided=[month + dt.timedelta(90)])
    found = person_benefits(person=resident)
    assert found.kogaku_count == LIMIT + 3 and len(found.kogaku) == LIMIT and found.kogaku_more
    assert found.kogaku[0].month == months[-1]


def test_the_household_page_lists_its_months_applications_and_members_payments(client, resident):
    application = _history(resident)
    login_verified(client, make_staff(role=Role.BENEFITS))
    url = reverse("household_detail", args=[resident.household.household_no])
    body = client.get(url + "?purpose=nhi_benefits").content.decode()
    assert 'id="kogaku-count">2件' in body and 'id="payment-count">1件' in body
    assert reverse("benefit_application_detail", args=[application.pk]) in body
    assert f"<td>{resident.name}</td>" in body  # the subject named in the applications
    plain = client.get(url).content.decode()
    assert 'id="benefits"' not in plain and 'id="benefits-link"' in plain

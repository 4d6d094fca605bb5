"""The cases' screens without a browser: the queue lists open cases, the report page shows
the month's figures with its charts and serves the same CSV as the CLI, and who may not."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.cases.models import InvestigationCase
from kokuho.cases.report import cases_report, report_csv
from kokuho.cases.services import receipt_record
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.testing import login_verified, make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def case():
    person = make_insured(birth_date=dt.date(1980, 1, 1))
    make_claim(person=person, service_month=dt.date(2026, 7, 1), points=10000, copay=30000)
    event_apply(
        ChangeEvent(ChangeType.EMPLOYEE_INSURANCE_JOIN, dt.date(2026, 6, 30), dt.date(2026, 9, 1),
                    person.atena_no),
        recorded_at=timezone.now(),
        actor=None,
    )  # fmt: skip
    return InvestigationCase.objects.get()


def test_the_queue_lists_the_open_case_and_records_whom_it_showed(client, case):
    login_verified(client, make_staff(role=Role.BENEFITS))
    page = client.get(reverse("cases_list")).content.decode()
    assert f'id="case-{case.pk}"' in page and "70,000 円" in page
    kinds = page.split('id="count-after_loss"', 1)[1].split("</li>", 1)[0]
    assert "資格喪失後受診（不当利得の返還）" in kinds and ": 1 件" in kinds
    shown = AuditEvent.objects.filter(
        event_type=EventType.PERSON_VIEWED, extra__screen="cases_list"
    ).get()
    assert shown.extra["persons_shown"] == [case.person.atena_no]


def test_the_report_page_shows_the_month_with_its_charts_and_the_csv(client, case):
    clerk = make_staff(role=Role.BENEFITS)
    receipt_record(case_id=case.pk, amount_yen=20000, received_on=timezone.localdate(),
                   actor=clerk)  # fmt: skip
    login_verified(client, clerk)
    month = f"{timezone.localdate():%Y-%m}"
    response = client.get(reverse("cases_report"), {"from": month, "to": month})
    page = response.content.decode()
    assert response.status_code == 200
    assert "70,000 円" in page and "20,000 円" in page
    assert page.count("<svg") == 2  # the counts and the amounts of the one kind
    assert f"{timezone.localdate():%y/%m} 請求額 70,000円" in page  # a bar's title
    assert "<script" not in page.split("<main", 1)[-1].split("</main>", 1)[0]
    csv_response = client.get(
        reverse("cases_report"), {"from": month, "to": month, "format": "csv"}
    )
    first = timezone.localdate().replace(day=1)
    assert csv_response.content.decode() == report_csv(cases_report(first=first, last=first))
    assert csv_response["Content-Type"].startswith("text/csv")


def test_a_month_that_cannot_be_read_is_said_in_japanese(client, case):
    login_verified(client, make_staff(role=Role.BENEFITS))
    response = client.get(reverse("cases_report"), {"from": "2026-13"})
    assert response.status_code == 400
    assert "月は YYYY-MM で指定してください（2026-13）" in response.content.decode()


def test_who_may_read_and_who_may_act(client, case):
    """給付の閲覧 (the counter too) reads the cases; only 給付の決定 acts on them; the audit
    staff, without either, sees none."""
    login_verified(client, make_staff(role=Role.COUNTER))
    assert client.get(reverse("case_detail", args=[case.pk])).status_code == 200
    assert client.post(reverse("case_receipt", args=[case.pk]), {}).status_code == 403
    assert client.get(reverse("case_notice", args=[case.pk, 1])).status_code == 403
    client.logout()
    login_verified(client, make_staff(role=Role.AUDITOR))
    for url in (reverse("cases_list"), reverse("case_detail", args=[case.pk]),
                reverse("cases_report")):  # fmt: skip
        assert client.get(url).status_code == 403

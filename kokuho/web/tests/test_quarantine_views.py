"""保留行 on screen: listed with the reason, corrected and re-submitted, or discarded."""

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.eligibility.selectors import eligibility_periods
from kokuho.interfaces.models import QuarantinedRow
from kokuho.interfaces.services import import_residents_changes
from kokuho.interfaces.tests.support import change, write_csv
from kokuho.people.models import Person
from kokuho.testing import login_verified, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(tmp_path):
    rows = [change("1", "A01", "2026-02-30", "401", "901")]
    import_residents_changes(path=write_csv(tmp_path / "residents-changes.csv", rows), actor=None)
    return QuarantinedRow.objects.get()


@pytest.fixture
def clerk(client):
    login_verified(client, make_staff(role=Role.ELIGIBILITY))
    return client


def test_the_list_shows_file_line_field_and_reason_and_is_audited(clerk, held):
    body = clerk.get(reverse("quarantine_list")).content.decode()
    assert "residents-changes.csv" in body and held.reason in body and "change_date" in body
    assert AuditEvent.objects.filter(event_type=EventType.QUARANTINE_VIEWED).exists()


def test_a_corrected_row_is_applied_through_the_import_path(clerk, held):
    data = {**held.raw, "change_date": "2026-02-28", "action": "resubmit"}
    response = clerk.post(reverse("quarantine_detail", args=[held.pk]), data)
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == "resubmitted"
    person = Person.objects.get(atena_no="401")
    assert eligibility_periods(person=person)[0].start.isoformat() == "2026-02-28"


def test_a_still_invalid_correction_stays_open_with_the_reason(clerk, held):
    data = {**held.raw, "change_date": "2026-02-31", "action": "resubmit"}
    body = clerk.post(reverse("quarantine_detail", args=[held.pk]), data).content.decode()
    assert "change_date" in body
    held.refresh_from_db()
    assert held.status == "open"


def test_discarding_records_who_and_why(clerk, held):
    response = clerk.post(
        reverse("quarantine_detail", args=[held.pk]), {"action": "discard", "note": "重複"}
    )
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == "discarded"


def test_counter_staff_cannot_open_the_quarantine(client, held):
    login_verified(client, make_staff(role=Role.COUNTER))
    assert client.get(reverse("quarantine_list")).status_code == 403

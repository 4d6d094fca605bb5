"""Documents go with the person's records at the end of their retention (decision 139)."""

import datetime as dt

import pytest

from kokuho.certificates.models import (
    CertificateApplication,
    Delivery,
    IssuedDocument,
    IssueReason,
    MynaRegistration,
    MynaStatus,
)
from kokuho.certificates.services import (
    IssueRequest,
    documents_issue,
    myna_status_record,
)
from kokuho.people.models import Person
from kokuho.retention.services import retention_run
from kokuho.retention.tests.builders import arrive, depart

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

D = dt.date


def _documents(person, on):
    # (Old 被保険者証-era data stands in: the parameters do not reach back to 2012.)
    printed = {"name": person.name, "address": person.address, "birth_date": "1970-01-01"}
    first = IssueRequest(person, "kakuninsho", on, D(on.year + 1, 7, 31), printed)
    second = IssueRequest(person, "kakuninsho", on, D(on.year + 1, 7, 31), printed)
    documents_issue([first], reason=IssueReason.NEW, delivery=Delivery.COUNTER, actor=None)
    # A reissue: the second refers to the first (erased together, the link untied).
    documents_issue([second], reason=IssueReason.REISSUE, delivery=Delivery.COUNTER, actor=None)
    myna_status_record(person=person, status=MynaStatus.UNREGISTERED, as_of=on, actor=None)


def test_documents_are_erased_with_the_records(settings, tmp_path):
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"
    gone = arrive(moved_in=D(2009, 4, 1))
    _documents(gone, D(2012, 8, 1))
    depart(gone, on=D(2016, 2, 28))
    kept = arrive(moved_in=D(2009, 4, 1))
    _documents(kept, D(2012, 8, 1))
    depart(kept, on=D(2016, 2, 29))

    run = retention_run(as_of=D(2026, 3, 1))

    assert run.status == "done", run.error
    assert not Person.objects.filter(pk=gone.pk).exists()
    assert not IssuedDocument.objects.filter(person_id=gone.pk).exists()
    assert not MynaRegistration.objects.filter(person_id=gone.pk).exists()
    assert not CertificateApplication.objects.filter(person_id=gone.pk).exists()
    # The one who left a day later keeps everything.
    assert IssuedDocument.objects.filter(person=kept).count() == 2
    assert MynaRegistration.objects.filter(person=kept).exists()

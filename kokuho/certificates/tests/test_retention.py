"""Documents go with the person's records at the end of their retention (decision 139)."""

import datetime as dt
from pathlib import Path

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


def test_print_files_are_erased_a_year_after_printing(settings, tmp_path):
    from django.utils import timezone

    from kokuho.certificates.models import MailingBatch
    from kokuho.certificates.renewal import renewal_run_create, renewal_run_execute
    from kokuho.retention.models import DeletionRecord
    from kokuho.testing import make_insured

    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"
    settings.KOKUHO_DOCUMENT_DIR = tmp_path / "documents"
    settings.KOKUHO_MAILING_BATCH_SIZE = 1
    make_insured()
    make_insured()
    run = renewal_run_execute(run_id=renewal_run_create(renewal_date=D(2026, 8, 1), actor=None).pk)
    old, new = MailingBatch.objects.filter(renewal=run).order_by("seq")
    today = timezone.localdate()
    two_years = timezone.now() - dt.timedelta(days=730)
    MailingBatch.objects.filter(pk=old.pk).update(created_at=two_years)
    daily = settings.KOKUHO_DOCUMENT_DIR / "daily"
    daily.mkdir(parents=True)
    old_letters = daily / f"return-letters-{today - dt.timedelta(days=800)}.pdf"
    new_letters = daily / f"return-letters-{today}.pdf"
    for path in (old_letters, new_letters):
        path.write_bytes(b"%PDF-1.4 test")
    old_path, new_path = old.path, new.path

    retention = retention_run(as_of=today)

    assert retention.counts["document_prints"] == 2
    assert not Path(old_path).exists() and not old_letters.exists()
    assert Path(new_path).exists() and new_letters.exists()
    old.refresh_from_db()
    assert old.path == "" and len(old.sha256) == 64  # the evidence stays, the copy goes
    record = DeletionRecord.objects.get(run=retention, data_class="document_prints")
    assert record.rule == "documents.print_file.1y_after_print"
    assert retention_run(as_of=today).counts["document_prints"] == 0

"""The spec test (privacy.md §2 保管・消去): data past retention is gone after the job and a
deletion record exists — and data just inside retention is still there.

One small city, planted around the boundaries of each rule for a run on 1 March 2026:
My Number 5 years after the 資格喪失日, records 10 years after the last change, audit
events 7 years, resolved 保留行 and uploads 1 year, the import ledger 10 years.
"""

import datetime as dt
import json

import pytest

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditCheckpoint, AuditEvent, EventType
from kokuho.audit.selectors import audit_chain_verify, audit_retention_until
from kokuho.core.purposes import Purpose
from kokuho.eligibility.models import (
    BranchNumber,
    EligibilityPeriod,
    EligibilityVersion,
    HouseholdNumber,
)
from kokuho.identity.services import my_number_masked, vault_status
from kokuho.interfaces.models import ImportedRecord, ImportFile, ImportJob, QuarantinedRow
from kokuho.people.models import Household, HouseholdHistory, Person, PersonHistory
from kokuho.retention.models import DataClass, DeletionRecord, RetentionRun, RunStatus
from kokuho.retention.selectors import retention_plan
from kokuho.retention.services import retention_run
from kokuho.retention.tests.builders import (
    D,
    arrive,
    at,
    depart,
    facility_move_out,
    import_file,
    plant_event,
    quarantined_row,
    register_numbers,
    table_counts,
    upload,
    upload_exists,
)
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

AS_OF = D(2026, 3, 1)
EXPECTED = {
    DataClass.MY_NUMBER: 3,
    DataClass.RECORDS: 1,
    DataClass.BENEFIT_DECISIONS: 0,
    DataClass.CLAIMS: 0,
    DataClass.PAYMENTS: 0,
    DataClass.PAYEE_ACCOUNTS: 0,
    DataClass.INTERFACE_RAW: 1,
    DataClass.INTERFACE_UPLOADS: 2,
    DataClass.INTERFACE_LEDGER: 1,
    DataClass.DOCUMENT_PRINTS: 0,
    DataClass.AUDIT: 2,
}


class City:
    """What was planted, by role in the test."""

    def __init__(self) -> None:
        # Audit events first: the trail is cut as a prefix.
        self.event_old = plant_event(at(D(2012, 5, 1)))
        self.event_last_day = plant_event(at(D(2019, 2, 28), 23, 59, 59))  # kept to 2026-02-28
        self.event_kept = plant_event(at(D(2019, 3, 1), 0, 0, 0))  # kept to 2026-03-01
        # Residents (each in a household of their own).
        self.gone = depart(arrive(moved_in=D(2009, 4, 1)), on=D(2016, 2, 28))
        self.leap = depart(arrive(moved_in=D(2009, 4, 1)), on=D(2016, 2, 29))
        self.number_gone = depart(arrive(moved_in=D(2010, 4, 1)), on=D(2021, 2, 28))
        self.number_kept = depart(arrive(moved_in=D(2010, 4, 1)), on=D(2021, 3, 1))
        self.insured = facility_move_out(arrive(moved_in=D(2009, 4, 1)), on=D(2010, 4, 1))
        register_numbers(self.gone, self.leap, self.number_gone, self.number_kept, self.insured)
        self.household_gone = self.gone.household
        self.clerk = make_staff(role=Role.ELIGIBILITY)
        # Interface data.
        self.ledger_gone = import_file(started=at(D(2016, 2, 28)), records=3)
        self.ledger_kept = import_file(started=at(D(2016, 3, 1)), records=2)
        self.ledger_open = import_file(started=at(D(2010, 1, 5)))
        self.row_gone = quarantined_row(file=self.ledger_kept, resolved=at(D(2025, 2, 28)))
        self.row_kept = quarantined_row(file=self.ledger_kept, resolved=at(D(2025, 3, 1)))
        self.row_open = quarantined_row(file=self.ledger_open, resolved=None)
        self.job_gone = upload(finished=at(D(2025, 2, 28)), by=self.clerk, file=self.ledger_kept)
        self.job_kept = upload(finished=at(D(2025, 3, 1)), by=self.clerk)
        self.job_ledger = upload(
            finished=at(D(2016, 2, 28), 11), by=self.clerk, file=self.ledger_gone
        )

    def masked(self, person: Person) -> str | None:
        return my_number_masked(
            actor=self.clerk, atena_no=person.atena_no, purpose=Purpose.NHI_ELIGIBILITY
        )

    def identifiers(self) -> list[str]:
        """Everything that would name a person, a household or a file."""
        people = [self.gone, self.leap, self.number_gone, self.number_kept, self.insured]
        found = [p.atena_no for p in people] + [p.name for p in people]
        found += [p.household.household_no for p in people]
        found += [j.stored_name for j in (self.job_gone, self.job_kept, self.job_ledger)]
        found += ["試験 保留", "juki_"]
        return found


@pytest.fixture
def city() -> City:
    return City()


def _erased(run: RetentionRun) -> dict[str, int]:
    totals: dict[str, int] = dict.fromkeys(map(str, DataClass), 0)
    for record in DeletionRecord.objects.filter(run=run):
        totals[record.data_class] += record.count
    return totals


def test_data_past_retention_is_gone_and_a_deletion_record_exists(city):
    run = retention_run(as_of=AS_OF)

    assert run.status == RunStatus.DONE
    assert run.counts == {str(k): v for k, v in EXPECTED.items()}
    assert _erased(run) == run.counts
    # Records: the person whose last change is 10 years and a day old, and all of theirs.
    gone = city.gone
    assert not Person.objects.filter(pk=gone.pk).exists()
    assert not Household.objects.filter(pk=city.household_gone.pk).exists()
    assert not PersonHistory.objects.filter(person_id=gone.pk).exists()
    assert not HouseholdHistory.objects.filter(household_id=city.household_gone.pk).exists()
    assert not EligibilityVersion.objects.filter(person_id=gone.pk).exists()
    assert not EligibilityPeriod.objects.filter(version__person_id=gone.pk).exists()
    assert not BranchNumber.objects.filter(person_id=gone.pk).exists()
    assert not HouseholdNumber.objects.filter(household_id=city.household_gone.pk).exists()
    # ... the one who left on 29 February 2016 is kept until 1 March 2026 inclusive.
    assert Person.objects.filter(pk=city.leap.pk).exists()
    # My Number: 5 years after the 資格喪失日; never while insured (住所地特例).
    assert city.masked(city.gone) is None
    assert city.masked(city.leap) is None
    assert city.masked(city.number_gone) is None
    assert city.masked(city.number_kept) is not None
    assert city.masked(city.insured) is not None
    assert Person.objects.filter(pk__in=[city.number_gone.pk, city.insured.pk]).count() == 2
    assert vault_status()["links"] == 2
    # Audit events: a prefix up to the last one dated 28 February 2019.
    assert not AuditEvent.objects.filter(seq__lte=city.event_last_day.seq).exists()
    assert AuditEvent.objects.filter(seq=city.event_kept.seq).exists()
    assert audit_retention_until(event=city.event_kept) == AS_OF
    checkpoint = AuditCheckpoint.objects.get()
    assert checkpoint.through_seq == city.event_last_day.seq
    assert checkpoint.through_hash == city.event_last_day.row_hash
    assert checkpoint.rows_removed == 2 and checkpoint.rule == "audit.event.7y"
    # Interface data.
    assert not QuarantinedRow.objects.filter(pk=city.row_gone.pk).exists()
    assert QuarantinedRow.objects.filter(pk__in=[city.row_kept.pk, city.row_open.pk]).count() == 2
    assert not upload_exists(city.job_gone) and upload_exists(city.job_kept)
    assert ImportJob.objects.filter(pk=city.job_gone.pk).exists()  # the request's record stays
    assert not ImportFile.objects.filter(pk=city.ledger_gone.pk).exists()
    assert not ImportedRecord.objects.filter(file_id=city.ledger_gone.pk).exists()
    assert not ImportJob.objects.filter(pk=city.job_ledger.pk).exists()
    kept_files = [city.ledger_kept.pk, city.ledger_open.pk]
    assert ImportFile.objects.filter(pk__in=kept_files).count() == 2


def test_the_deletion_records_name_the_rule_and_count_and_no_one(city):
    run = retention_run(as_of=AS_OF)

    rules = dict(DeletionRecord.objects.filter(run=run).values_list("data_class", "rule"))
    assert rules == {
        "my_number": "vault.my_number.5y_after_loss",
        "records": "records.person.10y_after_last_change",
        "interface_raw": "interfaces.quarantine.1y_after_resolved",
        "interface_uploads": "interfaces.upload.1y_after_import",
        "interface_ledger": "interfaces.ledger.10y_after_import",
        "audit": "audit.event.7y",
    }
    cutoffs = dict(DeletionRecord.objects.filter(run=run).values_list("data_class", "cutoff"))
    assert cutoffs["records"] == D(2016, 2, 29) and cutoffs["my_number"] == D(2021, 3, 1)
    assert cutoffs["audit"] == D(2019, 3, 1) and cutoffs["interface_raw"] == D(2025, 3, 1)
    records = DeletionRecord.objects.get(run=run, data_class="records")
    assert records.tables["people.Person"] == 1 and records.tables["people.Household"] == 1
    assert records.tables["eligibility.EligibilityVersion"] == 2
    # Nothing that names a person, a household or a file: not in the records, not in the
    # events of the job.
    kinds = [
        EventType.RECORDS_ERASED,
        EventType.RETENTION_ERASED,
        EventType.RETENTION_RUN,
        EventType.MY_NUMBER_ERASED,
    ]
    events = list(AuditEvent.objects.filter(event_type__in=kinds).values())
    assert {e["event_type"] for e in events} == set(kinds)
    text = json.dumps(
        [list(DeletionRecord.objects.values()), events], default=str, ensure_ascii=False
    )
    for identifier in city.identifiers():
        assert identifier not in text
    (summary,) = [e for e in events if e["event_type"] == EventType.RETENTION_RUN]
    assert summary["extra"]["counts"] == run.counts and summary["extra"]["key_rotated"]


def test_the_run_ends_with_a_key_rotation_that_retires_the_old_key(city):
    before = vault_status()["keks"]
    run = retention_run(as_of=AS_OF)
    assert run.key_rotated
    after = vault_status()
    assert len(after["keks"]) == 1 and after["keks"] != before
    assert after["per_kek"] == {after["active"]: 2}
    # The numbers kept still open with the new key.
    assert city.masked(city.number_kept).endswith(city.masked(city.number_kept)[-4:])
    assert AuditEvent.objects.filter(event_type=EventType.VAULT_KEY_ROTATED).count() == 1


def test_a_second_run_erases_nothing_more(city):
    retention_run(as_of=AS_OF)
    again = retention_run(as_of=AS_OF)
    assert set(again.counts.values()) == {0}
    assert not DeletionRecord.objects.filter(run=again).exists()
    assert not again.key_rotated
    assert AuditCheckpoint.objects.count() == 1
    assert audit_chain_verify().ok


def test_the_chain_verifies_after_the_cut(city):
    retention_run(as_of=AS_OF)
    report = audit_chain_verify()
    assert report.ok, report.reason


def test_the_next_day_the_boundary_items_go(city):
    retention_run(as_of=AS_OF)
    later = retention_run(as_of=AS_OF + dt.timedelta(days=1))
    assert later.counts[DataClass.RECORDS] == 1  # left on 29 February 2016
    assert later.counts[DataClass.MY_NUMBER] == 1  # 喪失日 1 March 2021
    assert later.counts[DataClass.AUDIT] == 1  # 1 March 2019 00:00
    assert later.counts[DataClass.INTERFACE_RAW] == 1
    assert later.counts[DataClass.INTERFACE_UPLOADS] == 1
    assert later.counts[DataClass.INTERFACE_LEDGER] == 0  # its 保留行 was resolved in 2025
    assert not Person.objects.filter(pk=city.leap.pk).exists()
    assert city.masked(city.number_kept) is None
    assert city.masked(city.insured) is not None
    assert AuditCheckpoint.objects.count() == 2
    assert audit_chain_verify().ok


def test_the_plan_changes_nothing_and_predicts_the_run(city):
    before = table_counts()
    plan = retention_plan(as_of=AS_OF)
    assert table_counts() == before
    assert upload_exists(city.job_gone) and city.masked(city.gone) is not None
    assert {c.rule.data_class: c.count for c in plan.classes} == EXPECTED
    records = next(c for c in plan.classes if c.rule.data_class == DataClass.RECORDS)
    assert records.skipped == {}
    raw = next(c for c in plan.classes if c.rule.data_class == DataClass.INTERFACE_RAW)
    assert raw.skipped == {"open_quarantine": 1}
    run = retention_run(as_of=AS_OF)
    assert run.counts == {str(k): v for k, v in EXPECTED.items()}

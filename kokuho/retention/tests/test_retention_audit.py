"""The job's cut of the audit trail (decision 42) and the boundaries on 29 February."""

import pytest
from django.db import transaction

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditCheckpoint, AuditEvent, EventType
from kokuho.audit.selectors import ChainFault, audit_chain_verify
from kokuho.core.purposes import Purpose
from kokuho.identity.services import my_number_masked
from kokuho.retention.models import DataClass, DeletionRecord
from kokuho.retention.services import retention_run
from kokuho.retention.tests.builders import D, arrive, at, depart, plant_event, register_numbers
from kokuho.testing import append_only_bypassed, make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])


def test_a_leap_day_event_is_kept_through_the_first_of_march():
    leap = plant_event(at(D(2016, 2, 29), 12))
    kept = retention_run(as_of=D(2023, 3, 1))
    assert kept.counts[DataClass.AUDIT] == 0
    gone = retention_run(as_of=D(2023, 3, 2))
    assert gone.counts[DataClass.AUDIT] == 1
    assert not AuditEvent.objects.filter(seq=leap.seq).exists()
    assert audit_chain_verify().ok


def test_the_local_day_counts_not_the_utc_one():
    # 00:30 JST on 1 March 2019 is still 28 February in UTC: kept through 1 March 2026.
    early = plant_event(at(D(2019, 3, 1), 0, 30))
    assert retention_run(as_of=D(2026, 3, 1)).counts[DataClass.AUDIT] == 0
    assert AuditEvent.objects.filter(seq=early.seq).exists()


def test_a_young_event_stops_the_cut_even_before_older_ones():
    # The trail is cut as a prefix: an old event recorded after a young one waits.
    plant_event(at(D(2012, 4, 1)))
    young = plant_event(at(D(2020, 4, 1)))
    late_old = plant_event(at(D(2012, 5, 1)))
    run = retention_run(as_of=D(2026, 3, 1))
    assert run.counts[DataClass.AUDIT] == 1
    assert AuditEvent.objects.filter(seq__in=[young.seq, late_old.seq]).count() == 2
    assert audit_chain_verify().ok


def test_a_long_trail_is_cut_in_chunks_each_verifiable():
    for day in range(1, 251):
        plant_event(at(D(2012, 1, 1), 9) + (D(2012, 1, 2) - D(2012, 1, 1)) * day)
    run = retention_run(as_of=D(2026, 3, 1), chunk=1)  # 100 audit rows per transaction
    assert run.counts[DataClass.AUDIT] == 250
    checkpoints = list(AuditCheckpoint.objects.order_by("through_seq"))
    assert [c.rows_removed for c in checkpoints] == [100, 100, 50]
    records = DeletionRecord.objects.filter(run=run, data_class=DataClass.AUDIT)
    assert sorted(r.count for r in records) == [50, 100, 100]
    assert AuditEvent.objects.filter(event_type=EventType.RETENTION_ERASED).count() == 3
    assert audit_chain_verify().ok


def test_after_the_cut_a_row_put_back_is_found_and_stays_found():
    old = plant_event(at(D(2012, 4, 1)))
    plant_event(at(D(2013, 5, 1)))
    erased = AuditEvent.objects.filter(seq=old.seq).values().get()
    assert retention_run(as_of=D(2019, 4, 2)).counts[DataClass.AUDIT] == 1
    assert audit_chain_verify().ok
    AuditEvent.objects.create(**erased)  # INSERT is not refused: the chain must see it
    report = audit_chain_verify()
    assert not report.ok
    assert report.fault == ChainFault.INSERTED and report.first_bad_seq == old.seq
    # The next cut does not sweep the evidence away with the rows it erases.
    assert retention_run(as_of=D(2026, 3, 1)).counts[DataClass.AUDIT] == 1
    report = audit_chain_verify()
    assert report.fault == ChainFault.INSERTED and report.first_bad_seq == old.seq


def test_after_the_cut_an_edited_checkpoint_is_found():
    plant_event(at(D(2012, 4, 1)))
    retention_run(as_of=D(2026, 3, 1))
    checkpoint = AuditCheckpoint.objects.get()
    with append_only_bypassed("audit_auditcheckpoint") as cursor:
        cursor.execute(
            "UPDATE audit_auditcheckpoint SET through_hash = %s WHERE id = %s",
            ["0" * 64, checkpoint.pk],
        )
    report = audit_chain_verify()
    assert not report.ok and report.fault == ChainFault.MISSING


def test_the_deletion_records_refuse_an_update():
    plant_event(at(D(2012, 4, 1)))
    run = retention_run(as_of=D(2026, 3, 1))
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        DeletionRecord.objects.filter(run=run).update(count=0)


def test_a_number_lost_on_29_february_is_kept_through_1_march_five_years_on():
    # Last insured day 28 February 2020, 資格喪失日 29 February 2020.
    person = depart(arrive(moved_in=D(2015, 4, 1)), on=D(2020, 2, 29))
    register_numbers(person)
    clerk = make_staff(role=Role.ELIGIBILITY)

    def masked():
        return my_number_masked(
            actor=clerk, atena_no=person.atena_no, purpose=Purpose.NHI_ELIGIBILITY
        )

    assert retention_run(as_of=D(2025, 3, 1)).counts[DataClass.MY_NUMBER] == 0
    assert masked() is not None
    assert retention_run(as_of=D(2025, 3, 2)).counts[DataClass.MY_NUMBER] == 1
    assert masked() is None

"""`audit_chain_verify` after the retention job has cut the trail (decision 42).

The cut is made here by hand, as the job makes it: in one transaction the events up to seq K
are deleted (PostgreSQL lets the DELETE through only with `kokuho.retention_erasure` on),
a checkpoint records K and the hash of K, and a `retention_erased` event is appended. The
chain must then verify from the checkpoint, and each way of hiding something behind the
cut must be found. Tampering goes past the append-only triggers as an attacker with DDL
rights would (disable on PostgreSQL, drop on SQLite, inside the test's transaction).
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from kokuho.audit.models import AuditCheckpoint, AuditEvent, EventType, SubjectType
from kokuho.audit.selectors import ChainFault, audit_chain_verify
from kokuho.audit.services import audit_event_record
from kokuho.testing import append_only_bypassed

pytestmark = pytest.mark.django_db


def _events(n: int) -> list[AuditEvent]:
    return [
        audit_event_record(
            event_type=EventType.PERSON_VIEWED,
            actor=None,
            subject_type=SubjectType.PERSON,
            subject_id=f"20000000{i:02d}",
            extra={"screen": "test", "i": i},
        )
        for i in range(n)
    ]


def _cut(through: AuditEvent) -> AuditCheckpoint:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL kokuho.retention_erasure = 'on'")
        removed, _ = AuditEvent.objects.filter(seq__lte=through.seq).delete()
        checkpoint = AuditCheckpoint.objects.create(
            through_seq=through.seq,
            through_hash=through.row_hash,
            rows_removed=removed,
            removed_at=timezone.now(),
            rule="audit.event.7y",
        )
        audit_event_record(
            event_type=EventType.RETENTION_ERASED,
            actor=None,
            subject_type=SubjectType.SYSTEM,
            extra={"through_seq": through.seq, "rows_removed": removed},
        )
    return checkpoint


def test_without_the_erasure_flag_postgresql_refuses_the_cut():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's trigger refuses UPDATE only (decision 8)")
    (event,) = _events(1)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=event.seq).delete()


def test_after_a_cut_the_chain_verifies_from_the_checkpoint():
    events = _events(5)
    _cut(events[2])
    report = audit_chain_verify()
    assert report.ok, report.reason
    # Two events after the cut, and the cut's own retention_erased event.
    assert report.checked == 3
    assert report.last_seq == AuditEvent.objects.order_by("-seq").first().seq
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "異常なし" in out.getvalue()


def test_it_verifies_from_the_newest_of_several_checkpoints():
    events = _events(6)
    _cut(events[1])
    _cut(events[4])
    report = audit_chain_verify()
    assert report.ok, report.reason
    assert report.checked == 3  # events[5] and two retention_erased events


def test_a_row_put_back_at_or_below_the_checkpoint_is_found():
    events = _events(5)
    erased = AuditEvent.objects.filter(seq=events[1].seq).values().get()
    _cut(events[2])
    AuditEvent.objects.create(**erased)
    report = audit_chain_verify()
    assert not report.ok
    assert report.fault == ChainFault.INSERTED and report.first_bad_seq == events[1].seq
    assert "消去済みの範囲" in report.reason


def test_an_edited_checkpoint_hash_is_a_missing_row():
    events = _events(5)
    checkpoint = _cut(events[2])
    with append_only_bypassed("audit_auditcheckpoint") as cursor:
        cursor.execute(
            "UPDATE audit_auditcheckpoint SET through_hash = %s WHERE id = %s",
            ["f" * 64, checkpoint.pk],
        )
    report = audit_chain_verify()
    assert not report.ok
    assert report.fault == ChainFault.MISSING and report.first_bad_seq == events[3].seq


def test_the_checkpoint_table_refuses_an_update():
    checkpoint = _cut(_events(3)[1])
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(through_hash="0" * 64)


def test_a_deleted_checkpoint_leaves_a_missing_row():
    events = _events(5)
    checkpoint = _cut(events[2])
    with append_only_bypassed("audit_auditcheckpoint") as cursor:
        cursor.execute("DELETE FROM audit_auditcheckpoint WHERE id = %s", [checkpoint.pk])
    report = audit_chain_verify()
    assert not report.ok
    assert report.fault == ChainFault.MISSING and report.first_bad_seq == events[3].seq


def test_a_cut_without_a_checkpoint_is_a_missing_row():
    events = _events(5)
    with append_only_bypassed("audit_auditevent") as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq <= %s", [events[2].seq])
    report = audit_chain_verify()
    assert not report.ok
    assert report.fault == ChainFault.MISSING and report.first_bad_seq == events[3].seq


def test_a_checkpoint_moved_further_than_the_rows_cut_is_found():
    # The checkpoint claims more was erased than was: the rows it covers are still there.
    events = _events(5)
    checkpoint = _cut(events[1])
    with append_only_bypassed("audit_auditcheckpoint") as cursor:
        cursor.execute(
            "UPDATE audit_auditcheckpoint SET through_seq = %s, through_hash = %s WHERE id = %s",
            [events[3].seq, events[3].row_hash, checkpoint.pk],
        )
    report = audit_chain_verify()
    assert not report.ok
    assert report.fault == ChainFault.INSERTED and report.first_bad_seq == events[2].seq


def test_an_edited_row_after_the_checkpoint_is_named():
    events = _events(5)
    _cut(events[1])
    with append_only_bypassed("audit_auditevent") as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET subject_id = '2999999999' WHERE seq = %s",
            [events[2].seq],
        )
    report = audit_chain_verify()
    assert not report.ok
    assert report.fault == ChainFault.EDITED and report.first_bad_seq == events[2].seq


def test_a_row_deleted_after_the_checkpoint_is_missing():
    events = _events(6)
    _cut(events[1])
    with append_only_bypassed("audit_auditevent") as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [events[3].seq])
    report = audit_chain_verify()
    assert not report.ok
    assert report.fault == ChainFault.MISSING and report.first_bad_seq == events[4].seq


def test_the_first_row_after_the_checkpoint_deleted_is_missing():
    events = _events(5)
    _cut(events[1])
    with append_only_bypassed("audit_auditevent") as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [events[2].seq])
    report = audit_chain_verify()
    assert not report.ok
    assert report.fault == ChainFault.MISSING and report.first_bad_seq == events[3].seq

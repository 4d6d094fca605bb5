"""The audit trail is append-only and tamper-evident."""

import pytest
from django.db import DatabaseError, connection, transaction

from kokuho.audit.models import AuditEvent, EventType, SubjectType
from kokuho.audit.selectors import audit_chain_verify
from kokuho.audit.services import audit_event_record
from kokuho.core.mynumber import my_number_check_digit
from kokuho.core.purposes import Purpose

pytestmark = pytest.mark.django_db

# Built at run time, never stored: a test-only number made valid by its own check digit.
SYNTHETIC = "12345678901" + str(my_number_check_digit("12345678901"))
WRONG_CHECK = SYNTHETIC[:-1] + str((int(SYNTHETIC[-1]) + 1) % 10)


def _events(n):
    return [
        audit_event_record(
            event_type=EventType.PERSON_VIEWED,
            actor=None,
            subject_type=SubjectType.PERSON,
            subject_id=f"10000000{i:02d}",
            purpose=Purpose.NHI_ELIGIBILITY,
            extra={"screen": "test", "i": i},
        )
        for i in range(n)
    ]


def test_a_fresh_chain_verifies():
    _events(5)
    report = audit_chain_verify()
    assert report.ok and report.checked == 5


def test_each_event_links_to_the_previous_one():
    first, second = _events(2)
    assert second.prev_hash == first.row_hash


def test_it_refuses_to_update_an_event():
    (event,) = _events(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(purpose="tax")


def _raw_delete(seq):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Only the retention job may delete; pretend to be a rogue one.
            cursor.execute("SET LOCAL kokuho.retention_erasure = 'on'")
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [seq])


def test_it_detects_a_deleted_event():
    events = _events(4)
    with transaction.atomic():
        _raw_delete(events[1].seq)
    report = audit_chain_verify()
    assert not report.ok
    assert report.first_bad_seq == events[2].seq


def test_it_detects_a_deleted_last_event():
    events = _events(3)
    with transaction.atomic():
        _raw_delete(events[-1].seq)
    assert not audit_chain_verify().ok


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgres_refuses_delete_outside_the_erasure_job():
    (event,) = _events(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_it_detects_edited_content():
    events = _events(3)
    with connection.cursor() as cursor:
        # Bypass the trigger the way an attacker with DDL rights would.
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                "UPDATE audit_auditevent SET purpose = 'tax' WHERE seq = %s", [events[1].seq]
            )
            cursor.execute("SET LOCAL session_replication_role = origin")
        else:
            cursor.execute("DROP TRIGGER audit_auditevent_append_only")
            cursor.execute(
                "UPDATE audit_auditevent SET purpose = 'tax' WHERE seq = %s", [events[1].seq]
            )
    report = audit_chain_verify()
    assert not report.ok and report.first_bad_seq == events[1].seq


def test_my_numbers_in_extra_are_masked():
    event = audit_event_record(
        event_type=EventType.PERSON_VIEWED,
        actor=None,
        subject_type=SubjectType.PERSON,
        extra={"note": f"番号 {SYNTHETIC} を確認"},
    )
    event.refresh_from_db()
    assert SYNTHETIC not in str(event.extra)
    assert f"**** **** {SYNTHETIC[-4:]}" in event.extra["note"]


def test_a_my_number_as_a_bare_integer_in_extra_is_masked_not_a_crash():
    """Found by the API fuzz test: a 12-digit `since` that passes the check digit was masked
    in the JSON text, outside quotes, and the event could not be written (a 500)."""
    event = audit_event_record(
        event_type=EventType.PERSON_VIEWED,
        actor=None,
        subject_type=SubjectType.PERSON,
        extra={"since": int(SYNTHETIC), "list": [int(SYNTHETIC), 42], "flag": True},
    )
    event.refresh_from_db()
    assert event.extra["since"] == f"**** **** {SYNTHETIC[-4:]}"
    assert event.extra["list"] == [f"**** **** {SYNTHETIC[-4:]}", 42]
    assert event.extra["flag"] is True
    assert audit_chain_verify().ok

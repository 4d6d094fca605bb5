"""Appending a batch of events: one chain, masked like single events."""

import pytest

from kokuho.audit.models import AuditEvent, EventType, SubjectType
from kokuho.audit.selectors import audit_chain_verify
from kokuho.audit.services import AuditEntry, audit_event_record, audit_events_record
from kokuho.core.mynumber import my_number_check_digit

pytestmark = pytest.mark.django_db


def _number() -> str:
    first = "97" + "123456789"
    return first + str(my_number_check_digit(first))


def test_a_batch_continues_the_chain_and_masks_number_shaped_values():
    number = _number()
    audit_event_record(event_type=EventType.LOGIN, actor=None, subject_type=SubjectType.SYSTEM)
    written = audit_events_record(
        [
            AuditEntry(EventType.RESIDENT_CHANGED, SubjectType.PERSON, "101", extra={"a": 1}),
            AuditEntry(
                EventType.RESIDENT_CHANGED,
                SubjectType.PERSON,
                "102",
                extra={"source": f"住基異動 1:{number}", "nested": [number]},
            ),
        ],
        actor=None,
    )
    audit_event_record(event_type=EventType.LOGOUT, actor=None, subject_type=SubjectType.SYSTEM)
    assert written == 2
    rows = list(AuditEvent.objects.order_by("seq"))
    kinds = [r.event_type for r in rows]
    assert kinds == ["login", "resident_changed", "resident_changed", "logout"]
    assert rows[1].extra == {"a": 1}
    stored = str(rows[2].extra)
    assert number not in stored and f"**** **** {number[-4:]}" in stored
    report = audit_chain_verify()
    assert report.ok and report.checked == 4

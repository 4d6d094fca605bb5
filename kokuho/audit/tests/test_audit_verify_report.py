"""`kokuho audit verify` names the broken link whatever was done to the row — including an
`event_type` no release ever wrote (the report's label look-up must not crash on it)."""

import io

import pytest
from django.core.management import CommandError, call_command

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.testing import append_only_bypassed

pytestmark = pytest.mark.django_db


def test_a_forged_event_type_is_reported_not_a_crash():
    events = [
        audit_event_record(
            event_type=EventType.PERSON_VIEWED,
            actor=None,
            subject_type=SubjectType.PERSON,
            subject_id=f"30000000{i:02d}",
        )
        for i in range(3)
    ]
    with append_only_bypassed("audit_auditevent") as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET event_type = 'forged_type' WHERE seq = %s",
            [events[1].seq],
        )
    with pytest.raises(CommandError) as refused:
        call_command("audit", "verify", stdout=io.StringIO())
    message = str(refused.value)
    assert "改ざんを検知" in message and f"seq {events[1].seq}" in message
    assert "未知の種類「forged_type」" in message

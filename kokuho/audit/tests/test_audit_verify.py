"""`kokuho audit verify`: every kind of tampering is found and named by its seq.

The tampering goes past the append-only trigger the way an attacker with DDL rights would:
on PostgreSQL by disabling the trigger, on SQLite by dropping it (both inside the test's
transaction, so the trigger is back for the next test).
"""

# The SQL below is built from this module's own table and column names, never from input.
# ruff: noqa: S608

import io
import tracemalloc

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from kokuho.audit import selectors
from kokuho.audit.models import AuditEvent, EventType, SubjectType
from kokuho.audit.selectors import ChainFault, audit_chain_verify
from kokuho.audit.services import AuditEntry, audit_event_record, audit_events_record, event_hash
from kokuho.testing import append_only_bypassed, make_staff

pytestmark = pytest.mark.django_db

TABLE = "audit_auditevent"
CONTENT = (
    "event_type",
    "occurred_at",
    "actor_id",
    "actor_username",
    "subject_type",
    "subject_id",
    "purpose",
    "extra",
)


def _events(n: int) -> list[AuditEvent]:
    return [
        audit_event_record(
            event_type=EventType.PERSON_VIEWED,
            actor=None,
            subject_type=SubjectType.PERSON,
            subject_id=f"10000000{i:02d}",
            extra={"screen": "test", "i": i},
        )
        for i in range(n)
    ]


def _verify_fails() -> str:
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("audit", "verify", stdout=out)
    assert caught.value.returncode == 1
    return str(caught.value)


def test_an_intact_chain_is_reported_with_its_count():
    events = _events(5)
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert "5 件" in out.getvalue() and "異常なし" in out.getvalue()
    assert events[-1].row_hash in out.getvalue()


def test_the_append_only_trigger_is_back_after_tampering():
    (event,) = _events(1)
    with append_only_bypassed(TABLE) as cursor:
        cursor.execute(f"UPDATE {TABLE} SET purpose = 'x' WHERE seq = %s", [event.seq])
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(purpose="y")


EDITS = {
    "event_type": lambda e, staff: ("event_type", "login"),
    "occurred_at": lambda e, staff: (
        "occurred_at",
        connection.ops.adapt_datetimefield_value(e.occurred_at.replace(year=2020)),
    ),
    "actor": lambda e, staff: ("actor_id", staff.pk),
    "actor_username": lambda e, staff: ("actor_username", "intruder"),
    "subject_id": lambda e, staff: ("subject_id", "1999999999"),
    "purpose": lambda e, staff: ("purpose", "tax"),
    "extra": lambda e, staff: ("extra", '{"screen": "forged"}'),
    "row_hash": lambda e, staff: ("row_hash", "f" * 64),
    "prev_hash": lambda e, staff: ("prev_hash", "e" * 64),
}


@pytest.mark.parametrize("field", list(EDITS))
def test_it_names_an_edited_row(field):
    events = _events(5)
    target = events[2]
    column, value = EDITS[field](target, make_staff())
    with append_only_bypassed(TABLE) as cursor:
        cursor.execute(f"UPDATE {TABLE} SET {column} = %s WHERE seq = %s", [value, target.seq])
    message = _verify_fails()
    assert f"seq {target.seq}（" in message and "行の改ざん" in message
    assert audit_chain_verify().first_bad_seq == target.seq


def test_it_names_an_edited_row_whose_hash_was_recomputed():
    events = _events(5)
    target = events[2]
    target.purpose = "tax"
    forged_hash = event_hash(target.prev_hash, target)
    with append_only_bypassed(TABLE) as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET purpose = 'tax', row_hash = %s WHERE seq = %s",
            [forged_hash, target.seq],
        )
    message = _verify_fails()
    assert f"seq {target.seq}（" in message and "行の改ざん" in message


def test_it_names_a_row_deleted_in_the_middle():
    events = _events(5)
    with append_only_bypassed(TABLE) as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq = %s", [events[2].seq])
    message = _verify_fails()
    assert f"seq {events[2].seq} の行が失われています" in message and "行の欠落" in message
    assert audit_chain_verify().fault == ChainFault.MISSING


def test_it_names_the_last_rows_deleted():
    events = _events(5)
    with append_only_bypassed(TABLE) as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE seq >= %s", [events[3].seq])
    message = _verify_fails()
    assert f"seq {events[3].seq}〜{events[4].seq} の行が失われています" in message
    assert audit_chain_verify().first_bad_seq == events[3].seq


def _swap_content(cursor, a: int, b: int) -> None:
    """Swap what two rows say, leaving their hash columns where they were."""
    cursor.execute(
        f"CREATE TEMP TABLE swap_copy AS SELECT * FROM {TABLE} WHERE seq IN (%s, %s)", [a, b]
    )
    assignments = ", ".join(
        f"{c} = (SELECT s.{c} FROM swap_copy s WHERE s.seq = "
        f"CASE WHEN {TABLE}.seq = {a} THEN {b} ELSE {a} END)"
        for c in CONTENT
    )
    cursor.execute(f"UPDATE {TABLE} SET {assignments} WHERE seq IN (%s, %s)", [a, b])
    cursor.execute("DROP TABLE swap_copy")


def _swap_whole_rows(cursor, a: int, b: int) -> None:
    """Swap two rows with everything they hold, hashes included (the unique row_hash
    forbids doing it column by column, so the rows trade places instead)."""
    for old, new in ((a, -1), (b, a), (-1, b)):
        cursor.execute(f"UPDATE {TABLE} SET seq = %s WHERE seq = %s", [new, old])


@pytest.mark.parametrize("swap", [_swap_whole_rows, _swap_content], ids=["rows", "content"])
def test_it_names_rows_swapped(swap):
    events = _events(6)
    first, second = events[1], events[4]
    with append_only_bypassed(TABLE) as cursor:
        swap(cursor, first.seq, second.seq)
    message = _verify_fails()
    assert f"seq {first.seq}（" in message and "順序の入れ替え" in message
    assert audit_chain_verify().fault == ChainFault.REORDERED


def test_it_names_a_forged_row_appended_without_moving_the_head():
    events = _events(3)
    forged = AuditEvent(
        event_type=EventType.LOGIN,
        occurred_at=events[-1].occurred_at,
        actor_username="",
        subject_type=SubjectType.SYSTEM,
        subject_id="",
        purpose="",
        extra={},
        prev_hash=events[-1].row_hash,
    )
    forged.row_hash = event_hash(forged.prev_hash, forged)
    with append_only_bypassed(TABLE) as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (event_type, occurred_at, actor_username, subject_type, "
            "subject_id, purpose, extra, prev_hash, row_hash) "
            "VALUES ('login', %s, '', 'system', '', '', '{}', %s, %s)",
            [
                connection.ops.adapt_datetimefield_value(forged.occurred_at),
                forged.prev_hash,
                forged.row_hash,
            ],
        )
    message = _verify_fails()
    forged_seq = AuditEvent.objects.get(row_hash=forged.row_hash).seq
    assert f"seq {forged_seq}（" in message and "チェーン先頭との不一致" in message


def test_it_names_a_last_row_rewritten_with_its_hash():
    events = _events(3)
    target = events[-1]
    target.purpose = "tax"
    with append_only_bypassed(TABLE) as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET purpose = 'tax', row_hash = %s WHERE seq = %s",
            [event_hash(target.prev_hash, target), target.seq],
        )
    message = _verify_fails()
    assert f"seq {target.seq}（" in message and "チェーン先頭との不一致" in message


def _peak_while_verifying() -> int:
    audit_chain_verify()  # warm caches before measuring
    tracemalloc.start()
    try:
        assert audit_chain_verify().ok
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_as_the_trail_grows(monkeypatch):
    monkeypatch.setattr(selectors, "VERIFY_CHUNK", 50)
    entries = [
        AuditEntry(EventType.PERSON_VIEWED, SubjectType.PERSON, f"{i:010d}", extra={"i": i})
        for i in range(200)
    ]
    audit_events_record(entries, actor=None)
    small = _peak_while_verifying()
    for _ in range(9):
        audit_events_record(entries, actor=None)
    large = _peak_while_verifying()
    # Ten times the rows; a scan that kept them would need several times the memory.
    assert large < small * 2, (small, large)

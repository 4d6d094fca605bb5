"""The incident register: opening, the timeline, reports, 本人通知, closing; deadlines."""

import datetime as dt

import pytest
from django.db import DatabaseError, transaction
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType, IncidentKind, IncidentNote, ReportKind
from kokuho.audit.selectors import (
    DeadlineState,
    audit_chain_verify,
    incident_due_dates,
    incident_reminders,
    incident_status,
    incidents_open,
)
from kokuho.audit.services import (
    IncidentError,
    IncidentErrorCode,
    incident_close,
    incident_mark_notified,
    incident_mark_reported,
    incident_note_add,
    incident_open,
)
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db

DISCOVERED = dt.date(2025, 6, 2)


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def auditor():
    return make_staff(role=Role.AUDITOR)


def _open(auditor, **overrides):
    fields = {
        "title": "窓口での書類の誤交付",
        "description": "別世帯の通知書を交付した（試験データ）",
        "discovered_at": _at(DISCOVERED),
        "kind": IncidentKind.LEAK,
        "wrongful_intent": False,
        "includes_my_number": True,
        "reportable": True,
        "persons_affected": 1,
        "actor": auditor,
        **overrides,
    }
    return incident_open(**fields)


def test_opening_records_the_incident_and_an_audit_event(auditor):
    incident = _open(auditor)
    event = AuditEvent.objects.get(event_type=EventType.INCIDENT_OPENED)
    assert event.subject_type == "incident" and event.subject_id == str(incident.pk)
    assert event.actor == auditor and event.extra["reportable"] is True
    assert "誤交付" not in str(event.extra)  # the narrative stays in the register
    assert audit_chain_verify().ok


def test_the_deadlines_are_five_and_thirty_days_from_discovery(auditor):
    due = incident_due_dates(incident=_open(auditor))
    assert due[ReportKind.PRELIMINARY] == dt.date(2025, 6, 7)
    assert due[ReportKind.FINAL] == dt.date(2025, 7, 2)


def test_wrongful_intent_gives_sixty_days_for_the_final_report(auditor):
    due = incident_due_dates(incident=_open(auditor, wrongful_intent=True))
    assert due[ReportKind.PRELIMINARY] == dt.date(2025, 6, 7)
    assert due[ReportKind.FINAL] == dt.date(2025, 8, 1)


def test_the_discovery_day_is_the_local_day(auditor):
    # 00:30 JST on 2 June is still 1 June in UTC.
    incident = _open(auditor, discovered_at=_at(DISCOVERED, hour=0).replace(minute=30))
    assert incident_due_dates(incident=incident)[ReportKind.PRELIMINARY] == dt.date(2025, 6, 7)


@pytest.mark.parametrize(
    ("on", "state", "days_left"),
    [
        (dt.date(2025, 6, 4), DeadlineState.ON_TRACK, 3),
        (dt.date(2025, 6, 5), DeadlineState.DUE_SOON, 2),
        (dt.date(2025, 6, 7), DeadlineState.DUE_SOON, 0),
        (dt.date(2025, 6, 8), DeadlineState.OVERDUE, -1),
    ],
)
def test_the_state_of_a_pending_report_follows_the_day(auditor, on, state, days_left):
    status = incident_status(incident=_open(auditor), on=on)
    preliminary = status.deadlines[0]
    assert (preliminary.kind, preliminary.state, preliminary.days_left) == (
        ReportKind.PRELIMINARY,
        state,
        days_left,
    )
    assert status.state == state


def test_a_report_made_is_no_longer_due(auditor):
    incident = _open(auditor)
    incident_mark_reported(
        incident=incident,
        kind=ReportKind.PRELIMINARY,
        reported_at=_at(DISCOVERED + dt.timedelta(days=3)),
        actor=auditor,
    )
    incident.refresh_from_db()
    status = incident_status(incident=incident, on=dt.date(2025, 6, 30))
    assert status.deadlines[0].done_on == dt.date(2025, 6, 5)
    assert status.deadlines[0].state is None
    assert status.state == DeadlineState.DUE_SOON  # 確報 on 2 July
    event = AuditEvent.objects.get(event_type=EventType.INCIDENT_UPDATED)
    assert event.extra["action"] == "preliminary_reported"


def test_an_incident_that_is_not_reportable_has_no_deadlines(auditor):
    incident = _open(auditor, reportable=False)
    status = incident_status(incident=incident, on=dt.date(2026, 1, 1))
    assert status.deadlines == () and status.state is None
    with pytest.raises(IncidentError) as caught:
        incident_mark_reported(
            incident=incident,
            kind=ReportKind.PRELIMINARY,
            reported_at=_at(DISCOVERED),
            actor=auditor,
        )
    assert caught.value.code == IncidentErrorCode.NOT_REPORTABLE


def test_the_final_report_needs_the_preliminary_one_first(auditor):
    incident = _open(auditor)
    with pytest.raises(IncidentError) as caught:
        incident_mark_reported(
            incident=incident, kind=ReportKind.FINAL, reported_at=_at(DISCOVERED), actor=auditor
        )
    assert caught.value.code == IncidentErrorCode.PRELIMINARY_FIRST


def test_a_report_is_recorded_once(auditor):
    incident = _open(auditor)
    kwargs = {"incident": incident, "kind": ReportKind.PRELIMINARY, "actor": auditor}
    incident_mark_reported(reported_at=_at(DISCOVERED), **kwargs)
    with pytest.raises(IncidentError) as caught:
        incident_mark_reported(reported_at=_at(DISCOVERED, 11), **kwargs)
    assert caught.value.code == IncidentErrorCode.ALREADY_RECORDED


@pytest.mark.parametrize(
    ("when", "code"),
    [
        (_at(DISCOVERED - dt.timedelta(days=1)), IncidentErrorCode.BEFORE_DISCOVERY),
        (timezone.now() + dt.timedelta(days=1), IncidentErrorCode.IN_FUTURE),
    ],
    ids=["before_discovery", "future"],
)
def test_a_report_date_must_lie_between_discovery_and_now(auditor, when, code):
    with pytest.raises(IncidentError) as caught:
        incident_mark_reported(
            incident=_open(auditor), kind=ReportKind.PRELIMINARY, reported_at=when, actor=auditor
        )
    assert caught.value.code == code


def test_it_refuses_an_occurrence_after_the_discovery(auditor):
    with pytest.raises(IncidentError) as caught:
        _open(auditor, occurred_at=_at(DISCOVERED + dt.timedelta(days=1)))
    assert caught.value.code == IncidentErrorCode.OCCURRED_AFTER_DISCOVERY


def test_it_refuses_a_discovery_no_deadline_rule_covers(auditor):
    with pytest.raises(IncidentError) as caught:
        _open(auditor, discovered_at=_at(dt.date(2020, 1, 6)))
    assert caught.value.code == IncidentErrorCode.NO_RULES


def test_notes_are_appended_and_cannot_be_edited(auditor):
    incident = _open(auditor)
    note = incident_note_add(incident=incident, text="委員会へ電話で第一報", actor=auditor)
    assert list(incident.notes.all()) == [note]
    with pytest.raises(DatabaseError), transaction.atomic():
        IncidentNote.objects.filter(pk=note.pk).update(text="書き換え")


def test_a_reportable_incident_closes_only_after_the_reports_and_the_notification(auditor):
    incident = _open(auditor)
    with pytest.raises(IncidentError) as caught:
        incident_close(incident=incident, note="対応完了", actor=auditor)
    assert caught.value.code == IncidentErrorCode.REPORTS_OUTSTANDING
    for kind in (ReportKind.PRELIMINARY, ReportKind.FINAL):
        incident_mark_reported(
            incident=incident, kind=kind, reported_at=_at(DISCOVERED), actor=auditor
        )
    incident_mark_notified(incident=incident, notified_at=_at(DISCOVERED, 15), actor=auditor)
    closed = incident_close(incident=incident, note="再発防止策を実施", actor=auditor)
    assert closed.closed_at is not None
    assert incident.notes.last().text == "【終結】再発防止策を実施"
    assert incidents_open(on=dt.date(2025, 7, 1)) == []
    with pytest.raises(IncidentError) as caught:
        incident_note_add(incident=incident, text="追記", actor=auditor)
    assert caught.value.code == IncidentErrorCode.CLOSED
    actions = list(
        AuditEvent.objects.filter(subject_type="incident")
        .order_by("seq")
        .values_list("extra__action", flat=True)
    )
    assert actions == [
        "opened",
        "preliminary_reported",
        "final_reported",
        "persons_notified",
        "closed",
    ]


def test_reminders_list_what_is_due_or_overdue_and_missing_notifications(auditor):
    due_soon = _open(auditor, title="期限間近の事案")
    _open(auditor, title="報告対象外の事案", reportable=False)
    later = _open(auditor, title="まだ先の事案", discovered_at=_at(dt.date(2025, 6, 20)))
    incident_mark_notified(incident=later, notified_at=_at(dt.date(2025, 6, 21)), actor=auditor)
    found = incident_reminders(on=dt.date(2025, 6, 6))
    assert [s.incident for s in found] == [due_soon]

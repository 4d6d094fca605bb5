"""自己点検: the month's findings list exactly the planted problems; the run is stored and
audited; the 所属長's sign-off follows its rules; the report carries the findings.

Events are planted through `audit_event_record` with Django's clock set to the moment they
happened (the chain stays intact; audit rows are never updated)."""

import datetime as dt
import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from kokuho.accounts.models import REQUIRED_COURSE, StaffProfile, TrainingRecord
from kokuho.accounts.permissions import Role
from kokuho.accounts.services import staff_create
from kokuho.audit.inspection import (
    ChecklistItem,
    FindingKind,
    SelfInspectionErrorCode,
    inspection_findings,
    inspection_report,
    inspection_rules,
    inspection_tables,
    inspection_window,
    self_inspection_run,
    self_inspection_sign_off,
)
from kokuho.audit.models import AuditEvent, EventType, SelfInspection, SubjectType
from kokuho.audit.selectors import audit_chain_verify
from kokuho.audit.services import audit_event_record
from kokuho.core.pdf import report_pdf
from kokuho.core.purposes import Purpose
from kokuho.people.models import ChangeCode, PersonHistory
from kokuho.testing import TEST_PASSWORD, make_household, make_person, make_staff

pytestmark = pytest.mark.django_db

MONTH = dt.date(2025, 6, 1)  # 1 June 2025 is a Sunday; 7–8 June a weekend


def _at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 6) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2025, month, day, hour, minute, second))


@contextmanager
def _clock(moment: dt.datetime) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment)
        yield


def _event(moment: dt.datetime, event_type: EventType, actor, subject_type, subject_id="", **kw):
    with _clock(moment):
        return audit_event_record(
            event_type=event_type,
            actor=actor,
            subject_type=subject_type,
            subject_id=subject_id,
            **kw,
        )


def _reveal(moment: dt.datetime, actor, atena_no: str) -> None:
    _event(
        moment,
        EventType.MY_NUMBER_REVEALED,
        actor,
        SubjectType.PERSON,
        atena_no,
        purpose=Purpose.NHI_ELIGIBILITY,
        extra={"integrated_no": "I" + atena_no, "reason": "資格取得届の番号確認"},
    )


def _view(moment: dt.datetime, actor, atena_no: str) -> None:
    _event(
        moment,
        EventType.PERSON_VIEWED,
        actor,
        SubjectType.PERSON,
        atena_no,
        purpose=Purpose.NHI_ELIGIBILITY,
        extra={"screen": "person_detail"},
    )


def _failed(moment: dt.datetime, username: str, addr: str) -> None:
    _event(
        moment,
        EventType.LOGIN_FAILED,
        None,
        SubjectType.STAFF,
        username,
        extra={"remote_addr": addr},
    )


def _staff(username: str, role: Role | None = Role.COUNTER, *, trained: bool = True, **kw) -> User:
    """A member of staff trained for the whole test month (and today), unless told not."""
    user = make_staff(role=role, username=username, trained=False, **kw)
    if trained:
        TrainingRecord.objects.create(
            user=user,
            course=REQUIRED_COURSE,
            completed_on=dt.date(2025, 1, 6),
            expires_on=timezone.localdate() + dt.timedelta(days=300),
        )
    return user


def _keys(inspection: SelfInspection, kind: FindingKind, *fields: str) -> list[tuple]:
    return [tuple(f[x] for x in fields) for f in inspection.findings["findings"][kind.value]]


@pytest.fixture
def auditor() -> User:
    return _staff("auditor", Role.AUDITOR)


@pytest.fixture
def supervisor() -> User:
    return _staff("chief", Role.SUPERVISOR)


@pytest.fixture
def planted(auditor) -> dict:
    """One of each problem, and the benign activity beside it."""
    # Accounts: dormant (no login since January), expired but still active, untrained.
    dormant = _staff("dormant1")
    User.objects.filter(pk=dormant.pk).update(
        last_login=_at(10, 9, month=1), date_joined=_at(6, 9, month=1)
    )
    _staff("expired1", valid_until=dt.date(2025, 5, 31))
    _staff("untrained1", Role.BENEFITS, trained=False)
    _staff("admin1", Role.ADMINISTRATOR, trained=False)  # no personal-data right: no training due

    # Residents: the relative's household (staff member + spouse + one who joined mid-June,
    # one who left before June), another household, two much-read residents.
    home = make_household()
    other = make_household()
    elsewhere = make_household()
    staff_self = make_person(household=home, name="職員 本人")
    spouse = make_person(household=home, relation="妻", name="職員 配偶者")
    joined = make_person(household=home, relation="子", name="六月 転入")
    left = make_person(household=elsewhere, name="三月 転出")
    stranger = make_person(household=other, name="他人 世帯")
    famous, busy = make_person(name="有名 住民"), make_person(name="多忙 住民")
    for person, steps in (
        (joined, [(dt.date(2020, 4, 1), elsewhere), (dt.date(2025, 6, 15), home)]),
        (left, [(dt.date(2020, 4, 1), home), (dt.date(2025, 3, 1), elsewhere)]),
    ):
        for day, household in steps:
            PersonHistory.objects.create(
                person=person,
                change_code=ChangeCode.HOUSEHOLD_JOIN,
                change_date=day,
                reported_on=day,
                recorded_at=timezone.now(),
                source="test",
                snapshot={"household_no": household.household_no},
            )
    relative = _staff("relative1")
    StaffProfile.objects.filter(user=relative).update(resident_atena_no=staff_self.atena_no)
    relative.refresh_from_db()

    # My Number reveals.
    night, weekend, burst, daily, calm, near = (
        _staff(n, Role.ELIGIBILITY)
        for n in ("night1", "weekend1", "burst1", "daily1", "calm1", "near1")
    )
    _reveal(_at(10, 21, 30), night, "7100000001")  # after hours, Tuesday
    _reveal(_at(7, 10), weekend, "7100000002")  # Saturday
    for i in range(12):  # Wednesday night: 12 in 6 minutes — off hours and in bulk
        _reveal(_at(11, 22) + dt.timedelta(seconds=30 * i), burst, f"70000000{i:02d}")
    for i in range(21):  # 21 in office hours, one every 20 minutes: over the daily limit
        _reveal(_at(12, 9) + dt.timedelta(minutes=20 * i), daily, f"72000000{i:02d}")
    _reveal(_at(10, 10), calm, "7300000001")  # benign: office hours, single
    _reveal(_at(10, 14), calm, "7300000002")
    for i in range(9):  # benign: 9 within 10 minutes is one short of a burst
        _reveal(_at(13, 9, i), near, f"74000000{i:02d}")
    _reveal(_at(31, 23, month=5), night, "7100000001")  # benign: another month

    # Failed logins: a burst on one username (ending in a lockout), a terminal spraying
    # usernames, and typos that are no burst.
    for i in range(5):
        _failed(_at(16, 9, i), "victim1", "10.0.0.9")
    _event(
        _at(16, 9, 4, 1),
        EventType.LOGIN_LOCKED_OUT,
        None,
        SubjectType.STAFF,
        "victim1",
        extra={"remote_addr": "10.0.0.9", "failures": 5, "lock_minutes": 30},
    )
    for i in range(5):
        _failed(_at(17, 13, i), f"guess{i}", "10.0.0.66")
    for i in range(4):
        _failed(_at(18, 8, 3 * i), "typo1", "10.0.0.7")

    # Exports: two this month, one in May.
    exporter = _staff("exporter1", Role.ELIGIBILITY)
    _event(
        _at(19, 15),
        EventType.PERSONAL_DATA_EXPORTED,
        exporter,
        SubjectType.EXPORT,
        "7",
        extra={"export": 7, "kind": "info_linkage_copy", "records": 120},
    )
    _event(
        _at(20, 11),
        EventType.DISCLOSURE_PRODUCED,
        exporter,
        SubjectType.PERSON,
        stranger.atena_no,
        extra={"export": 8, "kind": "disclosure", "records": 1, "format": "pdf"},
    )
    _event(
        _at(30, 11, month=5),
        EventType.PERSONAL_DATA_EXPORTED,
        exporter,
        SubjectType.EXPORT,
        "6",
        extra={"export": 6, "kind": "info_linkage_copy", "records": 99},
    )

    # The relative: reads their own record, their spouse, the household, the child who
    # joined on 15 June (after that day) — and, benignly, a stranger and the one who left.
    _view(_at(23, 10), relative, staff_self.atena_no)
    _view(_at(23, 10, 5), relative, spouse.atena_no)
    _view(_at(24, 10, 5), relative, spouse.atena_no)
    _event(
        _at(23, 10, 6),
        EventType.HOUSEHOLD_VIEWED,
        relative,
        SubjectType.HOUSEHOLD,
        home.household_no,
        purpose=Purpose.NHI_ELIGIBILITY,
        extra={"screen": "household", "members_shown": [spouse.atena_no]},
    )
    _view(_at(25, 10), relative, joined.atena_no)
    _view(_at(23, 11), relative, stranger.atena_no)
    _view(_at(23, 12), relative, left.atena_no)
    _view(_at(23, 13), calm, spouse.atena_no)  # someone else reading the spouse: benign

    # Concentrated reads: five staff on one resident, four on another (one more in July).
    viewers = [_staff(f"viewer{i}") for i in range(5)]
    for i, viewer in enumerate(viewers):
        _view(_at(26, 9 + i), viewer, famous.atena_no)
    _view(_at(26, 15), viewers[0], famous.atena_no)
    for viewer in viewers[:4]:
        _view(_at(27, 10), viewer, busy.atena_no)
    _view(_at(1, 10, month=7), viewers[4], busy.atena_no)

    return {
        "home": home,
        "staff_self": staff_self,
        "spouse": spouse,
        "joined": joined,
        "stranger": stranger,
        "famous": famous,
        "burst_atenas": [f"70000000{i:02d}" for i in range(12)],
    }


def test_it_lists_a_planted_dormant_account_and_an_off_hours_bulk_reveal(planted, auditor):
    inspection = self_inspection_run(month=MONTH, actor=auditor)

    assert _keys(inspection, FindingKind.DORMANT_ACCOUNT, "username") == [("dormant1",)]
    bulk = inspection.findings["findings"][FindingKind.REVEAL_BULK]
    assert [(b["username"], b["day"]) for b in bulk] == [
        ("burst1", "2025-06-11"),
        ("daily1", "2025-06-12"),
    ]
    night_burst = bulk[0]
    assert night_burst["window_count"] == 12 and night_burst["day_count"] == 12
    assert night_burst["atena_nos"] == planted["burst_atenas"]
    assert bulk[1]["day_count"] == 21 and bulk[1]["window_count"] == 1
    off_hours = _keys(inspection, FindingKind.REVEAL_OFF_HOURS, "username", "reason")
    assert off_hours.count(("burst1", "終業後")) == 12


def test_it_lists_exactly_the_planted_problems(planted, auditor):
    inspection = self_inspection_run(month=MONTH, actor=auditor)
    found = inspection.findings["findings"]

    assert _keys(inspection, FindingKind.EXPIRED_ACCOUNT, "username") == [("expired1",)]
    assert _keys(inspection, FindingKind.UNTRAINED_ACCOUNT, "username") == [("untrained1",)]
    assert _keys(inspection, FindingKind.REVEAL_OFF_HOURS, "username", "reason") == [
        ("weekend1", "土曜日"),
        ("night1", "終業後"),
        *[("burst1", "終業後")] * 12,
    ]
    assert found[FindingKind.REVEAL_OFF_HOURS][1]["atena_no"] == "7100000001"
    assert _keys(
        inspection, FindingKind.LOGIN_FAILURE_BURST, "by", "key", "failures", "lockouts"
    ) == [("username", "victim1", 5, 1), ("terminal", "10.0.0.66", 5, 0)]
    assert found[FindingKind.LOGIN_FAILURE_BURST][1]["related"] == [f"guess{i}" for i in range(5)]
    assert _keys(inspection, FindingKind.EXPORT, "event_type", "username", "records") == [
        (EventType.PERSONAL_DATA_EXPORTED, "exporter1", 120),
        (EventType.DISCLOSURE_PRODUCED, "exporter1", 1),
    ]
    assert found[FindingKind.EXPORT][1]["atena_no"] == planted["stranger"].atena_no
    own = _keys(inspection, FindingKind.OWN_HOUSEHOLD, "subject_id", "relation", "count")
    assert sorted(own) == sorted(
        [
            (planted["staff_self"].atena_no, "本人", 1),
            (planted["spouse"].atena_no, "同一世帯の世帯員", 2),
            (planted["home"].household_no, "本人の世帯", 1),
            (planted["joined"].atena_no, "同一世帯の世帯員", 1),
        ]
    )
    assert {f["username"] for f in found[FindingKind.OWN_HOUSEHOLD]} == {"relative1"}
    assert _keys(inspection, FindingKind.CONCENTRATED_VIEWS, "atena_no", "staff_count") == [
        (planted["famous"].atena_no, 5)
    ]
    assert found[FindingKind.CONCENTRATED_VIEWS][0]["event_count"] == 6
    assert inspection.counts == {
        "expired_account": 1,
        "dormant_account": 1,
        "untrained_account": 1,
        "reveal_off_hours": 14,
        "reveal_bulk": 2,
        "login_failure_burst": 2,
        "export": 2,
        "own_household": 4,
        "concentrated_views": 1,
    }
    events = {e["event_type"]: e["count"] for e in inspection.findings["event_counts"]}
    assert events[EventType.MY_NUMBER_REVEALED] == 1 + 1 + 12 + 21 + 2 + 9
    assert events[EventType.LOGIN_FAILED] == 14


def test_the_snapshot_names_no_resident_and_keeps_no_free_text(planted, auditor):
    inspection = self_inspection_run(month=MONTH, actor=auditor)
    stored = str(inspection.findings)
    for name in ("職員 配偶者", "有名 住民", "他人 世帯"):
        assert name not in stored
    assert "資格取得届の番号確認" not in stored  # a reveal's reason is not copied
    assert "I7100000001" not in stored  # nor the 統合宛名番号


def test_the_run_is_stored_and_audited_with_counts_only(planted, auditor):
    inspection = self_inspection_run(month=MONTH, actor=auditor)
    inspection.refresh_from_db()
    assert inspection.month == MONTH and inspection.run_by == auditor
    assert inspection.schema_version == 1 and inspection.findings["schema"] == 1
    event = AuditEvent.objects.get(event_type=EventType.SELF_INSPECTION_RUN)
    assert (event.subject_type, event.subject_id) == (SubjectType.INSPECTION, str(inspection.pk))
    assert event.actor == auditor
    assert set(event.extra) == {"month", "counts", "events"}
    assert event.extra["counts"] == inspection.counts
    assert audit_chain_verify().ok


def test_a_rerun_is_a_new_row_and_the_old_one_stays(auditor):
    first = self_inspection_run(month=MONTH, actor=auditor)
    _staff("expired2", valid_until=dt.date(2025, 6, 10))
    second = self_inspection_run(month=MONTH, actor=auditor)
    assert second.pk != first.pk
    assert SelfInspection.objects.filter(month=MONTH).count() == 2
    first.refresh_from_db()
    assert first.counts["expired_account"] == 0 and second.counts["expired_account"] == 1


def test_a_month_in_the_future_is_refused(auditor):
    following = (timezone.localdate().replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    with pytest.raises(Exception) as refused:
        self_inspection_run(month=following, actor=auditor)
    assert refused.value.code == SelfInspectionErrorCode.IN_FUTURE
    assert not SelfInspection.objects.exists()
    # The month in progress may be run (its accounts as of today).
    current = self_inspection_run(month=timezone.localdate(), actor=auditor)
    assert current.findings["as_of"] == timezone.localdate().isoformat()


def test_only_the_auditor_runs_it(supervisor):
    with pytest.raises(Exception) as refused:
        self_inspection_run(month=MONTH, actor=_staff("clerk", Role.COUNTER))
    assert refused.value.code == SelfInspectionErrorCode.NOT_PERMITTED
    assert self_inspection_run(month=MONTH, actor=None).run_by is None  # the system


def test_the_queries_do_not_grow_with_the_events(auditor):
    window = inspection_window(month=MONTH, today=timezone.localdate())
    rules = inspection_rules(month=MONTH)
    viewer = _staff("viewer", Role.ELIGIBILITY)
    relative = _staff("relative")
    person = make_person()
    StaffProfile.objects.filter(user=relative).update(resident_atena_no=person.atena_no)

    def plant(n: int) -> int:
        for i in range(n):
            _reveal(_at(7, 9, i), viewer, f"71{n:04d}{i:04d}")
            _view(_at(8, 9, i), relative, person.atena_no)
            _failed(_at(9, 9, i), f"user{n}-{i}", f"10.1.{n}.{i}")
        with CaptureQueriesContext(connection) as queries:
            inspection_findings(window=window, rules=rules)
        return len(queries)

    assert plant(12) == plant(36)


# --- Sign-off (所属長の確認) --------------------------------------------------------------


def _checklist(**overrides: dict) -> dict:
    answers = {item.value: {"answer": "ok", "note": ""} for item in ChecklistItem}
    return answers | overrides


def _refused(code: SelfInspectionErrorCode, **kwargs) -> None:
    with pytest.raises(Exception) as refused:
        self_inspection_sign_off(**kwargs)
    assert getattr(refused.value, "code", None) == code, refused.value


def test_the_supervisor_signs_off_once_with_every_item_answered(auditor, supervisor):
    inspection = self_inspection_run(month=MONTH, actor=auditor)
    action = {"answer": "action", "note": "休眠アカウントを停止する"}
    self_inspection_sign_off(
        inspection=inspection,
        actor=supervisor,
        checklist=_checklist(leavers=action),
        comment="来月再確認",
    )
    inspection.refresh_from_db()
    assert inspection.signed_by == supervisor and inspection.signed_at is not None
    assert inspection.checklist["leavers"] == action
    assert inspection.comment == "来月再確認"
    event = AuditEvent.objects.get(event_type=EventType.SELF_INSPECTION_SIGNED)
    assert (event.subject_type, event.subject_id) == (SubjectType.INSPECTION, str(inspection.pk))
    assert event.extra == {"month": "2025-06", "items": 8, "action_items": 1}

    _refused(
        SelfInspectionErrorCode.ALREADY_SIGNED,
        inspection=inspection,
        actor=_staff("chief2", Role.SUPERVISOR),
        checklist=_checklist(),
        comment="",
    )
    assert AuditEvent.objects.filter(event_type=EventType.SELF_INSPECTION_SIGNED).count() == 1


def test_an_incomplete_checklist_is_refused(auditor, supervisor):
    inspection = self_inspection_run(month=MONTH, actor=auditor)
    partial = _checklist()
    del partial["login_failures"]
    _refused(
        SelfInspectionErrorCode.CHECKLIST_INCOMPLETE,
        inspection=inspection,
        actor=supervisor,
        checklist=partial,
        comment="",
    )
    _refused(
        SelfInspectionErrorCode.CHECKLIST_INCOMPLETE,
        inspection=inspection,
        actor=supervisor,
        checklist=_checklist(rights={"answer": "maybe", "note": ""}),
        comment="",
    )
    _refused(
        SelfInspectionErrorCode.NOTE_REQUIRED,
        inspection=inspection,
        actor=supervisor,
        checklist=_checklist(rights={"answer": "action", "note": "  "}),
        comment="",
    )
    inspection.refresh_from_db()
    assert inspection.signed_at is None and inspection.checklist == {}


def test_whoever_ran_it_cannot_sign_it(supervisor):
    both = staff_create(
        username="both1",
        full_name="兼務 職員",
        password=TEST_PASSWORD,
        roles=[Role.AUDITOR, Role.SUPERVISOR],
        valid_from=dt.date(2020, 1, 1),
    )
    inspection = self_inspection_run(month=MONTH, actor=both)
    _refused(
        SelfInspectionErrorCode.SIGNER_IS_RUNNER,
        inspection=inspection,
        actor=both,
        checklist=_checklist(),
        comment="",
    )
    _refused(  # the auditor holds no sign-off right
        SelfInspectionErrorCode.NOT_PERMITTED,
        inspection=inspection,
        actor=_staff("auditor2", Role.AUDITOR),
        checklist=_checklist(),
        comment="",
    )
    # The database holds the separation too.
    with pytest.raises(DatabaseError), transaction.atomic():
        SelfInspection.objects.filter(pk=inspection.pk).update(
            signed_by=both, signed_at=timezone.now()
        )
    self_inspection_sign_off(
        inspection=inspection, actor=supervisor, checklist=_checklist(), comment=""
    )


def test_only_the_newest_run_of_the_month_is_signed(auditor, supervisor):
    old = self_inspection_run(month=MONTH, actor=auditor)
    self_inspection_run(month=MONTH, actor=auditor)
    _refused(
        SelfInspectionErrorCode.SUPERSEDED,
        inspection=old,
        actor=supervisor,
        checklist=_checklist(),
        comment="",
    )


def test_a_signed_inspection_and_every_snapshot_are_final(auditor, supervisor):
    inspection = self_inspection_run(month=MONTH, actor=auditor)
    with pytest.raises(DatabaseError), transaction.atomic():
        SelfInspection.objects.filter(pk=inspection.pk).update(counts={})
    self_inspection_sign_off(
        inspection=inspection, actor=supervisor, checklist=_checklist(), comment=""
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        SelfInspection.objects.filter(pk=inspection.pk).update(comment="書き換え")
    inspection.refresh_from_db()
    assert inspection.comment == ""


# --- Report and command -------------------------------------------------------------------


def test_the_pdf_carries_the_findings(planted, auditor, supervisor):
    inspection = self_inspection_run(month=MONTH, actor=auditor)
    self_inspection_sign_off(
        inspection=inspection, actor=supervisor, checklist=_checklist(), comment="確認した"
    )
    inspection.refresh_from_db()
    reader = PdfReader(io.BytesIO(report_pdf(inspection_report(inspection=inspection))))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "令和7年6月分" in text
    assert "dormant1" in text and "休眠アカウント" in text
    assert "勤務時間外の個人番号の表示" in text and "終業後" in text
    assert planted["famous"].atena_no in text
    assert "問題なし" in text and "所見: 確認した" in text
    assert "有名 住民" not in text


def test_the_tables_read_the_snapshot_not_the_live_data(auditor):
    _staff("expired3", valid_until=dt.date(2025, 6, 10))
    inspection = self_inspection_run(month=MONTH, actor=auditor)
    User.objects.filter(username="expired3").update(is_active=False)
    tables = {t.kind: t for t in inspection_tables(inspection=inspection)}
    assert tables[FindingKind.EXPIRED_ACCOUNT].count == 1
    assert "expired3" in tables[FindingKind.EXPIRED_ACCOUNT].rows[0][0]


def test_the_command_runs_prints_and_writes_the_files(planted, auditor, tmp_path):
    out = io.StringIO()
    pdf, html = tmp_path / "report.pdf", tmp_path / "report.html"
    call_command(
        "audit",
        "self-inspection",
        "--month",
        "2025-06",
        "--pdf",
        str(pdf),
        "--html",
        str(html),
        "--user",
        "auditor",
        stdout=out,
    )
    text = out.getvalue()
    assert "自己点検 令和7年6月分" in text
    assert "■ 休眠アカウント（90日超ログインなし）: 1 件" in text
    assert "dormant1" in text
    inspection = SelfInspection.objects.get()
    assert inspection.run_by == auditor
    assert pdf.read_bytes().startswith(b"%PDF")
    page = html.read_text(encoding="utf-8")
    assert "dormant1" in page and planted["famous"].atena_no in page
    assert "有名 住民" not in page


def test_the_command_refuses_a_future_month_and_an_unknown_user():
    with pytest.raises(CommandError, match="in_future"):
        call_command("audit", "self-inspection", "--month", "2999-01")
    with pytest.raises(CommandError, match="nobody"):
        call_command("audit", "self-inspection", "--month", "2025-06", "--user", "nobody")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("audit", "self-inspection", "--month", "June")

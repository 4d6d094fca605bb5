"""資格継続チェック結果 in: a file checked whole, each record matched to a 資格情報（個人） record
we sent, a work item per result with both sides' dates; accepting the carried dates makes
the next 資格情報（個人） file carry the carried 資格取得年月日 while 適用開始 stays the 転入 date.

a moved in from another city of the prefecture on 2024-05-01 (資格取得 there 2019-04-01);
b moved out to another city on 2025-03-01 (this city's 適用終了 2025-02-28)."""

import datetime as dt
from pathlib import Path

import pytest
from django.core.management import call_command

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.eligibility.events import ChangeType
from kokuho.eligibility.models import ContinuityCarriedDates, ContinuityResultFile
from kokuho.national.continuity import (
    ContinuityError,
    continuity_item_accept,
    continuity_item_resolve,
    continuity_result_import,
)
from kokuho.national.inbound import NationalInboundRejected
from kokuho.national.layouts import descriptor, line_read, line_write
from kokuho.national.ledger import national_export
from kokuho.national.models import Feed, NationalWorkItem, WorkItemKind
from kokuho.national.tests.builders import arrive, happen
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden"
DAY = dt.date(2025, 4, 1)
MOVED_IN = dt.date(2024, 5, 1)
A_KEY = "389999|10|000001|01|20240501"
B_KEY = "389999|10|000002|01|20200401"
CONTROL = "1,shuyaku_continuity,C0.1,389999,1,20250410"


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"


@pytest.fixture
def sent():
    a = arrive("1000000001", "5000000001", on=MOVED_IN, name="継続 一郎")
    b = arrive("1000000002", "5000000002", name="転出 二郎")
    happen(ChangeType.MOVE_OUT, "1000000002", dt.date(2025, 3, 1))
    national_export(feed=Feed.SHUYAKU_PERSON, as_of=DAY, full=True, actor=None)
    return a, b


@pytest.fixture
def clerk():
    return make_staff(role=Role.ELIGIBILITY)


def _carried(key=A_KEY) -> str:
    return f"2,{key.replace('|', ',')},1,1,380014,20240430,20240501,20190401,,"


def _file(tmp_path, lines, *, control=CONTROL, end=True, count=None, name="continuity.csv"):
    body = [control, *lines]
    if end:
        body.append(f"9,{len(lines) if count is None else count}")
    path = tmp_path / name
    path.write_bytes(("\r\n".join(body) + "\r\n").encode("cp932"))
    return path


def _person_rows(path: Path) -> list[dict]:
    desc = descriptor("shuyaku_person")
    lines = path.read_bytes().decode("cp932").split("\r\n")[:-1]
    return [line_read(desc, "data", line) for line in lines[1:-1]]


def test_the_golden_file_round_trips_and_opens_its_work_items(sent):
    path = GOLDEN / "shuyaku_continuity.csv"
    desc = descriptor("shuyaku_continuity")
    lines = path.read_bytes().decode("cp932").split("\r\n")[:-1]
    for kind, line in [("control", lines[0]), *[("data", x) for x in lines[1:-1]]]:
        assert line_write(desc, kind, line_read(desc, kind, line), DAY) == line
    outcome = continuity_result_import(path=path, actor=None)
    assert outcome.opened == 2 and len(outcome.problems) == 1
    assert dict(NationalWorkItem.objects.values_list("key", "kind")) == {
        A_KEY: WorkItemKind.CONTINUITY_CARRIED,
        B_KEY: WorkItemKind.CONTINUITY_GAP,
    }
    gap = NationalWorkItem.objects.get(key=B_KEY)
    assert gap.detail["gap_days"] == 9 and gap.detail["period_end"] == "2025-02-28"


def test_a_carried_result_opens_a_work_item_with_both_sides_dates(tmp_path, sent):
    a, _ = sent
    outcome = continuity_result_import(path=_file(tmp_path, [_carried()]), actor=None)
    assert (outcome.opened, outcome.problems) == (1, [])
    item = NationalWorkItem.objects.get()
    assert (item.kind, item.key, item.person, item.feed) == (
        WorkItemKind.CONTINUITY_CARRIED, A_KEY, a, Feed.SHUYAKU_PERSON,
    )  # fmt: skip
    assert item.detail | {"file": "", "line": 0} == {
        "side": "1",
        "other_insurer_no": "380014",
        "former_applied_until": "2024-04-30",
        "new_applied_from": "2024-05-01",
        "carried_acquired_on": "2019-04-01",
        "carried_lost_on": None,
        "gap_days": 0,
        "period_start": "2024-05-01",
        "period_end": None,
        "file": "",
        "line": 0,
        "message": "",
    }
    assert ContinuityResultFile.objects.get().counts["作業項目"] == 1


def test_accepting_carries_the_acquisition_date_while_the_application_start_stays(
    tmp_path, sent, clerk
):
    a, _ = sent
    continuity_result_import(path=_file(tmp_path, [_carried()]), actor=None)
    item = continuity_item_accept(item=NationalWorkItem.objects.get(), actor=clerk)
    assert item.resolved_at is not None and item.resolved_by == clerk
    assert "2019-04-01" in item.resolution
    carried = ContinuityCarriedDates.objects.get()
    assert (carried.person, carried.applied_from, carried.acquired_on) == (
        a, MOVED_IN, dt.date(2019, 4, 1),
    )  # fmt: skip
    event = AuditEvent.objects.filter(event_type=EventType.NATIONAL_WORK_ITEM_RESOLVED).get()
    assert event.subject_id == a.atena_no and event.extra["action"] == "accepted"
    delta = national_export(
        feed=Feed.SHUYAKU_PERSON, as_of=DAY + dt.timedelta(days=1), full=False, actor=None
    )
    rows = [r for r in _person_rows(delta.path) if r["atena_no"] == a.atena_no]
    # The key moves (取得日): the old key is deleted and the new one sent.
    assert [(r["processing"], r["acquired_on"], r["applied_from"]) for r in rows] == [
        ("1", dt.date(2019, 4, 1), MOVED_IN),
        ("3", MOVED_IN, MOVED_IN),
    ]


def test_on_the_side_moved_from_the_loss_is_carried_and_the_end_stays(tmp_path, sent, clerk):
    _, b = sent
    line = f"2,{B_KEY.replace('|', ',')},1,2,380022,20250228,20250301,,,"
    continuity_result_import(path=_file(tmp_path, [line]), actor=None)
    continuity_item_accept(item=NationalWorkItem.objects.get(), actor=clerk, note="転出先で継続")
    delta = national_export(
        feed=Feed.SHUYAKU_PERSON, as_of=DAY + dt.timedelta(days=1), full=False, actor=None
    )
    (row,) = _person_rows(delta.path)
    assert (row["processing"], row["atena_no"]) == ("2", b.atena_no)
    assert (row["lost_on"], row["loss_reason"], row["applied_until"]) == (
        None, None, dt.date(2025, 2, 28),
    )  # fmt: skip


def test_a_gap_is_resolved_with_a_reason_and_nothing_is_carried(tmp_path, sent, clerk):
    line = f"2,{A_KEY.replace('|', ',')},2,1,380014,20240331,20240501,,,"
    continuity_result_import(path=_file(tmp_path, [line]), actor=None)
    item = NationalWorkItem.objects.get()
    assert item.kind == WorkItemKind.CONTINUITY_GAP and item.detail["gap_days"] == 30
    assert "空白期間 30日" in item.message
    with pytest.raises(ContinuityError, match="引き継ぐ日付がない"):
        continuity_item_accept(item=item, actor=clerk)
    with pytest.raises(ContinuityError, match="理由"):
        continuity_item_resolve(item=item, reason=" ", actor=clerk)
    continuity_item_resolve(item=item, reason="転入日を住記で確認、空白期間は社保加入", actor=clerk)
    item.refresh_from_db()
    assert item.resolution == "転入日を住記で確認、空白期間は社保加入"
    assert not ContinuityCarriedDates.objects.exists()
    with pytest.raises(ContinuityError, match="解決済み"):
        continuity_item_resolve(item=item, reason="二度目", actor=clerk)


def test_an_overlap_opens_its_kind(tmp_path, sent):
    line = f"2,{A_KEY.replace('|', ',')},3,1,380014,20240610,20240501,,,"
    continuity_result_import(path=_file(tmp_path, [line]), actor=None)
    item = NationalWorkItem.objects.get()
    assert item.kind == WorkItemKind.CONTINUITY_OVERLAP and "重複期間 41日" in item.message


def test_unknown_keys_and_dates_are_reported_not_guessed(tmp_path, sent):
    lines = [
        _carried("389999|10|000001|01|20240502"),  # 取得日 we never sent
        _carried("389998|10|000001|01|20240501"),  # another insurer's key
        f"2,{A_KEY.replace('|', ',')},1,1,380014,20240430,20240601,20190401,,",  # no such period
        _carried(),
    ]
    outcome = continuity_result_import(path=_file(tmp_path, lines), actor=None)
    assert outcome.opened == 1 and len(outcome.problems) == 3
    assert "2行目" in outcome.problems[0] and "送信していない" in outcome.problems[0]
    assert "他の保険者" in outcome.problems[1]
    assert "当市の適用開始 2024-06-01 に当たる資格期間がありません" in outcome.problems[2]
    assert NationalWorkItem.objects.get().key == A_KEY


def test_an_item_still_open_is_not_opened_twice(tmp_path, sent):
    continuity_result_import(path=_file(tmp_path, [_carried()]), actor=None)
    again = _file(tmp_path, [_carried(), _carried()], name="again.csv")
    outcome = continuity_result_import(path=again, actor=None)
    assert (outcome.opened, outcome.already_open) == (0, 2)
    assert NationalWorkItem.objects.count() == 1


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(p.read_bytes().replace(b"380014", b"\x81 80014")), "CP932"),
        (lambda p: p.write_bytes(p.read_bytes()[:-2]), "CRLF"),
        (lambda p: p.write_bytes(p.read_bytes().rsplit(b"9,1\r\n", 1)[0]), "エンドレコード"),
        (lambda p: p.write_bytes(p.read_bytes().replace(b"9,1\r\n", b"9,2\r\n")), "件数"),
        (lambda p: p.write_bytes(p.read_bytes().replace(b"C0.1", b"C9.9")), "未知のレイアウト"),
        (lambda p: p.write_bytes(p.read_bytes().replace(b"C0.1,389999", b"C0.1,389998")), "他の"),
    ],
)
def test_a_bad_file_is_refused_whole(tmp_path, sent, make, message):
    path = _file(tmp_path, [_carried()])
    make(path)
    with pytest.raises(NationalInboundRejected, match=message):
        continuity_result_import(path=path, actor=None)
    assert not NationalWorkItem.objects.exists() and not ContinuityResultFile.objects.exists()


def test_the_same_file_again_is_refused(tmp_path, sent):
    path = _file(tmp_path, [_carried()])
    continuity_result_import(path=path, actor=None)
    with pytest.raises(NationalInboundRejected, match="取込済み"):
        continuity_result_import(path=path, actor=None)
    assert ContinuityResultFile.objects.count() == 1


def test_the_command_dispatches_on_the_layout(tmp_path, sent, capsys):
    call_command("national", "import-result", str(_file(tmp_path, [_carried()])))
    assert "資格継続チェック結果 continuity.csv: 作業項目 1件" in capsys.readouterr().out
    bad = _file(tmp_path, [_carried()], name="bad.csv", count=5)
    with pytest.raises(SystemExit) as exit_:
        call_command("national", "import-result", str(bad))
    assert exit_.value.code == 2

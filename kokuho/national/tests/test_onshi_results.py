"""処理結果 of the オンライン資格確認 資格履歴: per-record status, superseded, the J-LIS work item
and its two resolutions, and the person's access history."""

import datetime as dt

import pytest

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.eligibility.events import ChangeType
from kokuho.national.ledger import national_export
from kokuho.national.models import (
    AckResult,
    NationalWorkItem,
    OutboundRecord,
    RecordResult,
    ResultFile,
    WorkItemKind,
)
from kokuho.national.results import NationalResultRejected, national_result_import
from kokuho.national.tests.builders import happen
from kokuho.national.tests.test_onshi_export import DAY, FEED, city, data_rows
from kokuho.national.workitems import (
    WorkItemError,
    WorkItemRefused,
    jlis_mismatch_confirm,
    jlis_mismatch_resend,
)
from kokuho.people.models import Person
from kokuho.subject_requests.holdings import person_holdings
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])
JLIS = "2,{key},2,J001,住基と不一致,資格 太朗,シカク タロウ,19700101,1,愛媛県みかん市本町1-1"


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"


@pytest.fixture
def sent():
    city()
    return national_export(feed=FEED, as_of=DAY, full=True, actor=None).file


def _keys(file):
    rows = OutboundRecord.objects.filter(file=file).order_by("line_no")
    return list(rows.values_list("key", flat=True))


def _result(tmp_path, lines, *, sequence=1, head="1,onshi_result,C0.1,389999", name="r.csv"):
    body = [f"{head},onshi_history,{sequence}", *lines, f"9,{len(lines)}"]
    path = tmp_path / name
    path.write_bytes(("\r\n".join(body) + "\r\n").encode("cp932"))
    return path


def _status(key, file):
    return OutboundRecord.objects.get(file=file, key=key).result


def test_results_give_each_record_its_status_and_open_a_jlis_work_item(tmp_path, sent):
    head, child, aged, moved = _keys(sent)
    path = _result(
        tmp_path,
        [f"2,{head},0,,,,,,,", f"2,{child},1,E201,生年月日の誤り,,,,,", JLIS.format(key=aged),
         f"2,{moved},0,,,,,,,", "2,389999|99|999999|01|20200401,0,,,,,,,"],
    )  # fmt: skip
    outcome = national_result_import(path=path, actor=None)
    assert (outcome.accepted, outcome.rejected) == (2, 2)
    assert outcome.unknown == ["389999|99|999999|01|20200401"]
    assert _status(child, sent) == RecordResult.REJECTED
    assert _status(aged, sent) == RecordResult.JLIS_MISMATCH
    sent.refresh_from_db()
    assert sent.ack_result == AckResult.PARTLY_REJECTED
    item = NationalWorkItem.objects.get(kind=WorkItemKind.JLIS_MISMATCH)
    assert item.person.atena_no == "1000000003" and item.key == aged
    assert item.detail["held"]["氏名"] == "長寿 キヨ"
    assert item.detail["returned"]["氏名"] == "資格 太朗"
    assert set(item.detail["differs"]) == {"氏名", "カナ", "生年月日", "性別"}


def test_a_record_sent_again_later_is_superseded_and_opens_no_item(tmp_path, sent):
    head = _keys(sent)[0]
    happen(ChangeType.MOVE_OUT, "1000000001", dt.date(2026, 4, 10))
    later = national_export(feed=FEED, as_of=dt.date(2026, 4, 11), full=False, actor=None).file
    assert _keys(later) == [head]
    national_result_import(path=_result(tmp_path, [JLIS.format(key=head)]), actor=None)
    assert _status(head, sent) == RecordResult.SUPERSEDED
    assert not NationalWorkItem.objects.filter(kind=WorkItemKind.JLIS_MISMATCH).exists()
    path = _result(tmp_path, [f"2,{head},0,,,,,,,"], sequence=2, name="r2.csv")
    national_result_import(path=path, actor=None)
    assert _status(head, later) == RecordResult.ACCEPTED


@pytest.mark.parametrize(
    ("head", "lines", "message"),
    [
        ("1,onshi_result,C9.9,389999", [], "未知のレイアウト"),
        ("1,onshi_result,C0.1,123456", [], "他の保険者"),
        ("1,onshi_other,C0.1,389999", [], "未知のレイアウト"),
    ],
)
def test_a_bad_result_file_is_refused_whole(tmp_path, sent, head, lines, message):
    path = _result(tmp_path, [f"2,{_keys(sent)[0]},0,,,,,,,", *lines], head=head)
    with pytest.raises(NationalResultRejected, match=message):
        national_result_import(path=path, actor=None)
    assert not ResultFile.objects.exists()
    assert not OutboundRecord.objects.exclude(result="").exists()


def test_a_truncated_repeated_or_unknown_file_is_refused(tmp_path, sent):
    good = _result(tmp_path, [f"2,{_keys(sent)[0]},0,,,,,,,"])
    cut = tmp_path / "cut.csv"
    cut.write_bytes(good.read_bytes()[:-6])
    with pytest.raises(NationalResultRejected, match="切れて"):
        national_result_import(path=cut, actor=None)
    with pytest.raises(NationalResultRejected, match="送信していないファイル"):
        national_result_import(path=_result(tmp_path, [], sequence=7, name="x.csv"), actor=None)
    national_result_import(path=good, actor=None)
    with pytest.raises(NationalResultRejected, match="取込済み"):
        national_result_import(path=good, actor=None)


@pytest.fixture
def mismatch(tmp_path, sent):
    head = _keys(sent)[0]
    national_result_import(path=_result(tmp_path, [JLIS.format(key=head)]), actor=None)
    return NationalWorkItem.objects.get(kind=WorkItemKind.JLIS_MISMATCH)


def test_fixed_and_resent_goes_out_as_a_correction_in_the_next_delta(mismatch):
    clerk = make_staff(role=Role.ELIGIBILITY)
    jlis_mismatch_resend(item=mismatch, actor=clerk, note="住基側の氏名訂正を確認")
    mismatch.refresh_from_db()
    assert mismatch.resolved_by == clerk and "再送" in mismatch.resolution
    delta = national_export(feed=FEED, as_of=DAY + dt.timedelta(days=1), full=False, actor=None)
    (row,) = data_rows(delta.path)
    assert (row["name"], row["processing"], row["identity_check"]) == ("資格 太郎", "4", "1")
    event = AuditEvent.objects.get(event_type=EventType.NATIONAL_WORK_ITEM_RESOLVED)
    assert event.subject_id == "1000000001" and event.extra["resolution_kind"] == "resent"
    with pytest.raises(WorkItemError, match="解決済み"):
        jlis_mismatch_resend(item=mismatch, actor=clerk)


def test_confirmed_with_a_reason_flags_the_record_and_resends_it(mismatch):
    clerk = make_staff(role=Role.ELIGIBILITY)
    with pytest.raises(WorkItemError, match="理由"):
        jlis_mismatch_confirm(item=mismatch, actor=clerk, reason=" ")
    jlis_mismatch_confirm(item=mismatch, actor=clerk, reason="旧字体の届出どおりで正しい")
    mismatch.refresh_from_db()
    assert mismatch.resolution == "旧字体の届出どおりで正しい" and mismatch.resolved_at
    delta = national_export(feed=FEED, as_of=DAY + dt.timedelta(days=1), full=False, actor=None)
    (row,) = data_rows(delta.path)
    assert (row["processing"], row["identity_check"]) == ("2", "2")


def test_a_clerk_without_the_right_cannot_resolve(mismatch):
    with pytest.raises(WorkItemRefused):
        jlis_mismatch_confirm(item=mismatch, actor=make_staff(role=Role.BENEFITS), reason="確認済")
    assert AuditEvent.objects.filter(event_type=EventType.ACCESS_DENIED).exists()


def test_the_access_history_shows_each_export_that_carried_the_person(sent):
    happen(ChangeType.MOVE_OUT, "1000000001", dt.date(2026, 4, 10))
    national_export(feed=FEED, as_of=dt.date(2026, 4, 11), full=False, actor=None)
    person = Person.objects.get(atena_no="1000000001")
    access = person_holdings(person=person, my_number_masked=None).access
    exports = [a for a in access if "連携ファイル" in a.action]
    assert [("通番 1" in a.action, "通番 2" in a.action) for a in exports] == [
        (True, False), (False, True),
    ]  # fmt: skip
    assert "オンライン資格確認" in exports[0].purpose and "中間サーバー" in exports[0].screen
    other = Person.objects.get(atena_no="1000000002")
    assert len([a for a in person_holdings(person=other, my_number_masked=None).access
                if "連携ファイル" in a.action]) == 1  # fmt: skip

import datetime as dt

import pytest
from django.core.management import call_command

from kokuho.national.ledger import national_export
from kokuho.national.models import AckResult, Feed, OutboundFile, OutboundRecord, ResultFile
from kokuho.national.results import NationalResultRejected, national_result_import
from kokuho.national.selectors import national_alerts, national_status
from kokuho.national.tests.builders import arrive

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 4, 1)


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"
    settings.KOKUHO_NATIONAL_ACK_DAYS = 3


@pytest.fixture
def sent():
    arrive("1000000001", "5000000001")
    arrive("1000000002", "5000000001", relation="子")
    return national_export(feed=Feed.SHUYAKU_PERSON, as_of=DAY, full=True, actor=None).file


def _result(tmp_path, lines, name="result.csv", *, end=True, count=None):
    body = ["1,shuyaku_result,C0.1,389999,shuyaku_person,1", *lines]
    if end:
        body.append(f"9,{len(lines) if count is None else count}")
    path = tmp_path / name
    path.write_bytes(("\r\n".join(body) + "\r\n").encode("cp932"))
    return path


def _keys(file):
    return list(
        OutboundRecord.objects.filter(file=file).order_by("line_no").values_list("key", flat=True)
    )


def test_results_are_matched_to_the_records_sent(tmp_path, sent):
    first, second = _keys(sent)
    path = _result(tmp_path, [f"2,{first},0,,", f"2,{second},1,E101,生年月日が住基と一致しません"])
    outcome = national_result_import(path=path, actor=None)
    assert (outcome.accepted, outcome.rejected, outcome.unknown) == (1, 1, [])
    rejected = OutboundRecord.objects.get(key=second)
    assert (rejected.result, rejected.result_code) == ("rejected", "E101")
    sent.refresh_from_db()
    assert sent.acknowledged_at is not None and sent.ack_result == AckResult.PARTLY_REJECTED


def test_a_result_for_a_record_never_sent_is_reported_not_guessed(tmp_path, sent):
    first, _ = _keys(sent)
    path = _result(tmp_path, [f"2,{first},0,,", "2,389999|10|999999|01|20200401,1,E1,x"])
    outcome = national_result_import(path=path, actor=None)
    assert outcome.unknown == ["389999|10|999999|01|20200401"]
    assert OutboundRecord.objects.filter(result="").count() == 1  # the other record untouched
    assert ResultFile.objects.get().unknown == outcome.unknown


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t, k: _result(t, [f"2,{k},0,,"], end=False), "途中で切れて"),
        (lambda t, k: _result(t, [f"2,{k},0,,"], count=5), "件数 5"),
        (
            lambda t, k: _write(
                t, f"1,shuyaku_result,C9.9,389999,shuyaku_person,1\r\n2,{k},0,,\r\n9,1\r\n"
            ),
            "未知のレイアウト",
        ),
        (
            lambda t, k: _write(
                t, f"1,shuyaku_result,C0.1,130005,shuyaku_person,1\r\n2,{k},0,,\r\n9,1\r\n"
            ),
            "他の保険者",
        ),
        (
            lambda t, k: _write(
                t, f"1,shuyaku_result,C0.1,389999,shuyaku_person,7\r\n2,{k},0,,\r\n9,1\r\n"
            ),
            "送信していないファイル",
        ),
    ],
)
def test_a_bad_result_file_is_refused_whole(tmp_path, sent, mutate, message):
    first, _ = _keys(sent)
    with pytest.raises(NationalResultRejected, match=message):
        national_result_import(path=mutate(tmp_path, first), actor=None)
    assert not ResultFile.objects.exists()
    assert not OutboundRecord.objects.exclude(result="").exists()
    sent.refresh_from_db()
    assert sent.acknowledged_at is None


def _write(tmp_path, text):
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("cp932"))
    return path


def test_a_feed_without_acknowledgement_after_n_days_is_an_alert(tmp_path, sent):
    sent_at = sent.sent_at
    assert national_alerts(now=sent_at + dt.timedelta(days=2)) == []
    alerts = national_alerts(now=sent_at + dt.timedelta(days=3, hours=1))
    assert [(a.feed, a.sequence, a.days) for a in alerts] == [("shuyaku_person", 1, 3)]
    first, second = _keys(sent)
    national_result_import(
        path=_result(tmp_path, [f"2,{first},0,,", f"2,{second},0,,"]), actor=None
    )
    assert national_alerts(now=sent_at + dt.timedelta(days=30)) == []
    status = {row["feed"]: row for row in national_status()}
    assert status["shuyaku_person"]["last_sequence"] == 1
    assert status["shuyaku_person"]["unacknowledged"] == []


def test_the_commands_export_import_and_report(tmp_path, capsys):
    arrive("1000000001", "5000000001")
    call_command("national", "export", "shuyaku", "--full", "--date", "2026-04-01")
    out = capsys.readouterr().out
    assert "推定レイアウト" in out and "資格情報（世帯） 通番 1 全件" in out
    assert OutboundFile.objects.count() == 3
    call_command("national", "status", "--json")
    assert '"last_sequence": 1' in capsys.readouterr().out

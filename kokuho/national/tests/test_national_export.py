import datetime as dt
from pathlib import Path

import pytest

from kokuho.eligibility.events import ChangeType
from kokuho.interfaces.models import ExportKind, ExportRecord
from kokuho.national.feeds import feeds_of
from kokuho.national.layouts import descriptor, line_read
from kokuho.national.ledger import NationalExportError, national_export
from kokuho.national.models import Feed, NationalWorkItem, OutboundFile, OutboundRecord
from kokuho.national.tests.builders import arrive, happen
from kokuho.people.models import Person

pytestmark = pytest.mark.django_db(databases=["default", "vault"])  # feeds that read the vault
GOLDEN = Path(__file__).parent / "golden"
DAY = dt.date(2026, 4, 1)


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"


def _city() -> None:
    arrive("1000000001", "5000000001", name="連携 太郎", kana="レンケイ タロウ")
    arrive(
        "1000000002", "5000000001", relation="子", name="連携 花子", kana="レンケイ ハナコ",
        birth=dt.date(2021, 6, 1), sex=2, on=dt.date(2021, 6, 1),
    )  # fmt: skip
    arrive("1000000003", "5000000002", name="移動 次郎", kana="イドウ ジロウ")
    happen(ChangeType.MOVE_OUT, "1000000003", dt.date(2023, 3, 1))


def _data(path: Path, feed: str) -> list[dict]:
    desc = descriptor(feed)
    lines = path.read_bytes().decode("cp932").split("\r\n")[:-1]
    return [line_read(desc, "data", line) for line in lines[1:-1]]


# The feeds of the 国保情報集約システム; the others have their own golden tests (vault, encryption).
@pytest.mark.parametrize("feed", feeds_of("shuyaku"))
def test_the_full_extract_matches_its_golden_file(feed):
    _city()
    outcome = national_export(feed=feed, as_of=DAY, full=True, actor=None)
    written = outcome.path.read_bytes()
    golden = GOLDEN / f"{feed.value}.csv"
    assert written == golden.read_bytes()
    assert written.endswith(b"\r\n") and written.startswith(b"1,")
    assert outcome.file.assumed and "推定レイアウト" in outcome.layout_note


def test_the_ledger_and_the_export_register_hold_the_file():
    _city()
    outcome = national_export(feed=Feed.SHUYAKU_PERSON, as_of=DAY, full=True, actor=None)
    file = outcome.file
    assert file.sequence == 1 and file.record_count == 3
    assert OutboundRecord.objects.filter(file=file).count() == 3
    register = ExportRecord.objects.get(pk=file.export_id)
    assert register.kind == ExportKind.NATIONAL_AGGREGATION
    assert register.file_sha256 == file.sha256 and register.record_count == 3


def test_a_delta_first_is_refused():
    _city()
    with pytest.raises(NationalExportError, match="全件ファイル"):
        national_export(feed=Feed.SHUYAKU_PERSON, as_of=DAY, full=False, actor=None)
    assert not OutboundFile.objects.exists()


def test_a_repeat_of_a_date_writes_the_same_bytes_and_takes_nothing_new():
    _city()
    first = national_export(feed=Feed.SHUYAKU_PERSON, as_of=DAY, full=True, actor=None)
    before = first.path.read_bytes()
    first.path.write_bytes(before[:20])  # a half-copied file at the link PC
    arrive("1000000009", "5000000009")  # a change after the file was made
    again = national_export(feed=Feed.SHUYAKU_PERSON, as_of=DAY, full=True, actor=None)
    assert again.repeated and again.path.read_bytes() == before
    assert OutboundFile.objects.count() == 1


def test_an_interrupted_export_takes_the_same_sequence_and_bytes(monkeypatch):
    _city()
    national_export(feed=Feed.SHUYAKU_PERSON, as_of=DAY, full=True, actor=None)
    happen(ChangeType.MOVE_OUT, "1000000001", dt.date(2026, 4, 10))
    later = DAY + dt.timedelta(days=10)
    import kokuho.national.ledger as ledger

    real = ledger._Writer.finish

    def crash(self):
        raise OSError("disk full")

    monkeypatch.setattr(ledger._Writer, "finish", crash)
    with pytest.raises(OSError):
        national_export(feed=Feed.SHUYAKU_PERSON, as_of=later, full=False, actor=None)
    assert OutboundFile.objects.count() == 1
    monkeypatch.setattr(ledger._Writer, "finish", real)
    done = national_export(feed=Feed.SHUYAKU_PERSON, as_of=later, full=False, actor=None)
    assert done.file.sequence == 2
    data = done.path.read_bytes()
    done.path.unlink()  # lost after it was sent: the ledger writes it again
    assert (
        national_export(
            feed=Feed.SHUYAKU_PERSON, as_of=later, full=False, actor=None
        ).path.read_bytes()
        == data
    )


def test_a_delta_resends_a_changed_period_as_a_change():
    _city()
    national_export(feed=Feed.SHUYAKU_PERSON, as_of=DAY, full=True, actor=None)
    happen(ChangeType.MOVE_OUT, "1000000001", dt.date(2026, 4, 10))
    outcome = national_export(
        feed=Feed.SHUYAKU_PERSON, as_of=dt.date(2026, 4, 11), full=False, actor=None
    )
    rows = _data(outcome.path, "shuyaku_person")
    assert [(r["atena_no"], r["processing"], r["lost_on"]) for r in rows] == [
        ("1000000001", "2", dt.date(2026, 4, 10))
    ]
    assert rows[0]["loss_reason"] == "01"
    nothing = national_export(
        feed=Feed.SHUYAKU_PERSON, as_of=dt.date(2026, 4, 12), full=False, actor=None
    )
    assert nothing.file.sequence == 3 and nothing.file.record_count == 0


def test_a_retroactive_change_resends_every_period_it_touches():
    arrive("1000000005", "5000000005")
    happen(ChangeType.MOVE_OUT, "1000000005", dt.date(2022, 4, 1))
    arrive("1000000005", "5000000005", on=dt.date(2023, 4, 1))
    national_export(feed=Feed.SHUYAKU_PERSON, as_of=DAY, full=True, actor=None)
    # Reported today: in 社保 from 2021-01-01 to 2023-05-31 — it cuts both periods.
    happen(ChangeType.EMPLOYEE_INSURANCE_JOIN, "1000000005", dt.date(2021, 1, 1), DAY)
    happen(ChangeType.EMPLOYEE_INSURANCE_LEAVE, "1000000005", dt.date(2023, 6, 1), DAY)
    outcome = national_export(
        feed=Feed.SHUYAKU_PERSON, as_of=DAY + dt.timedelta(days=1), full=False, actor=None
    )
    rows = sorted(
        (r["processing"], r["acquired_on"], r["lost_on"])
        for r in _data(outcome.path, "shuyaku_person")
    )
    assert rows == [
        ("1", dt.date(2023, 6, 1), None),  # the second period, from the 社保 end
        ("2", dt.date(2020, 4, 1), dt.date(2021, 1, 2)),  # the first, lost the day after
        ("3", dt.date(2023, 4, 1), None),  # the old second period's key
    ]


def test_a_name_shift_jis_cannot_carry_is_a_work_item_never_a_question_mark():
    _city()
    Person.objects.filter(atena_no="1000000001").update(name="髙橋 太郎")
    outcome = national_export(feed=Feed.SHUYAKU_PERSON, as_of=DAY, full=True, actor=None)
    assert b"?" not in outcome.path.read_bytes()
    assert outcome.held == 1 and outcome.file.record_count == 2
    item = NationalWorkItem.objects.get()
    assert item.person.atena_no == "1000000001" and "髙" in item.message
    Person.objects.filter(atena_no="1000000001").update(name="高橋 太郎")
    fixed = national_export(
        feed=Feed.SHUYAKU_PERSON, as_of=DAY + dt.timedelta(days=1), full=False, actor=None
    )
    assert [r["processing"] for r in _data(fixed.path, "shuyaku_person")] == ["1"]
    item.refresh_from_db()
    assert item.resolved_at is not None


def test_sequences_are_gapless_per_feed():
    _city()
    for n, feed in enumerate([Feed.SHUYAKU_HOUSEHOLD, Feed.SHUYAKU_PERSON]):
        national_export(feed=feed, as_of=DAY, full=True, actor=None)
        for day in range(1, 4):
            national_export(feed=feed, as_of=DAY + dt.timedelta(days=day), full=False, actor=None)
        seqs = list(OutboundFile.objects.filter(feed=feed).values_list("sequence", flat=True))
        assert sorted(seqs) == [1, 2, 3, 4], n
    with pytest.raises(NationalExportError, match="より前"):
        national_export(
            feed=Feed.SHUYAKU_PERSON, as_of=DAY - dt.timedelta(days=1), full=False, actor=None
        )

"""副本: the `fukuhon` feed through the national ledger — keyed by 団体内統合宛名番号 only,
新規異動区分 from the ledger's decision, 未設定事由 for every empty item, and a work item for a
person the vault cannot key."""

import datetime as dt
from pathlib import Path

import pytest

from kokuho.eligibility.events import ChangeType
from kokuho.identity.services import vault_integrated_numbers
from kokuho.interfaces.models import ExportKind, ExportRecord
from kokuho.intermediary.catalogue import catalogue
from kokuho.intermediary.fukuhon import items_parse
from kokuho.intermediary.tests.builders import arrive, city, happen, my_number_like
from kokuho.national.layouts import code_list, descriptor, line_read
from kokuho.national.ledger import national_export
from kokuho.national.models import Feed, NationalWorkItem, OutboundRecord, WorkItemKind
from kokuho.retention.tests.builders import register_numbers

pytestmark = pytest.mark.django_db(databases=["default", "vault"])
GOLDEN = Path(__file__).parent / "golden" / "fukuhon.csv"
DAY = dt.date(2026, 4, 1)


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"


def _export(on: dt.date, full: bool = False):
    return national_export(feed=Feed.FUKUHON, as_of=on, full=full, actor=None)


def _data(path: Path) -> list[dict]:
    desc = descriptor("fukuhon")
    lines = path.read_bytes().decode("cp932").split("\r\n")[:-1]
    return [line_read(desc, "data", line) for line in lines[1:-1]]


def _codes(outcome, integrated: str) -> list[tuple[str, str, str]]:
    return sorted(
        (r["dataset_no"], r["processing"], r["provision"])
        for r in _data(outcome.path)
        if r["integrated_no"] == integrated
    )


def test_the_full_file_matches_its_golden_file():
    city()
    outcome = _export(DAY, full=True)
    assert outcome.path.read_bytes() == GOLDEN.read_bytes()
    assert outcome.file.assumed and outcome.file.record_count == 6
    register = ExportRecord.objects.get(pk=outcome.file.export_id)
    assert register.kind == ExportKind.INFO_LINKAGE_COPY and "19条第8号" in register.legal_basis


def test_the_file_round_trips_and_carries_no_atena_or_my_number():
    people = city()
    outcome = _export(DAY, full=True)
    text = outcome.path.read_bytes().decode("cp932")
    assert not any(p.atena_no in text for p in people)
    assert my_number_like(text) == []
    linked = vault_integrated_numbers(atena_nos=[p.atena_no for p in people])
    rows = _data(outcome.path)
    assert {r["integrated_no"] for r in rows} == set(linked.values())
    desc = descriptor("fukuhon")
    sent = {r.line for r in OutboundRecord.objects.filter(file=outcome.file)}
    from kokuho.national.layouts import line_write

    assert {line_write(desc, "data", r, DAY) for r in rows} == sent


def test_every_empty_item_carries_an_unset_reason_never_null():
    city()
    rows = _data(_export(DAY, full=True).path)
    (entry,) = [e for e in catalogue() if e.provided]
    version = entry.version_on(DAY)
    reasons = code_list("fukuhon_unset_reason", DAY)
    for row in rows:
        dataset = next(d for d in entry.datasets if d.number == row["dataset_no"])
        items = items_parse(row["items"])
        assert list(items) == [i.code for i in entry.items_of(dataset, version)]
        for value, reason in items.values():
            assert (value not in (None, "")) != (reason is not None)
            assert reason is None or reason in reasons
    # The 資格喪失年月日 of an insured person is empty: 01 該当なし.
    assert any(items_parse(r["items"]).get("TK00000000000106") == (None, "01") for r in rows)


def test_initial_then_change_then_reregistration_then_version_change():
    head, _child, other = city()
    linked = vault_integrated_numbers(atena_nos=[head.atena_no, other.atena_no])
    full = _export(DAY, full=True)
    assert {r["processing"] for r in _data(full.path)} == {"1"}

    happen(ChangeType.MOVE_OUT, other.atena_no, dt.date(2026, 4, 10))
    moved = _export(dt.date(2026, 4, 15))
    assert _codes(moved, linked[other.atena_no]) == [("001", "4", "0"), ("002", "4", "0")]

    # 社保 from the first day, reported late: the head has no period left — the key is gone.
    happen(ChangeType.EMPLOYEE_INSURANCE_JOIN, head.atena_no, dt.date(2020, 4, 1), DAY)
    gone = _export(dt.date(2026, 4, 16))
    assert _codes(gone, linked[head.atena_no]) == [("001", "4", "1"), ("002", "4", "1")]

    happen(ChangeType.EMPLOYEE_INSURANCE_LEAVE, head.atena_no, dt.date(2026, 4, 20))
    back = _export(dt.date(2026, 4, 21))
    assert _codes(back, linked[head.atena_no]) == [("001", "3", "0"), ("002", "3", "0")]

    # 2026-07-01: the catalogue's next 版 — every record the other side holds is 版改定.
    july = _export(dt.date(2026, 7, 1))
    rows = _data(july.path)
    assert rows and {r["processing"] for r in rows} == {"2"}
    assert {r["info_version"] for r in rows} == {"R080700"}


def test_a_person_without_a_number_is_held_as_a_work_item_until_registered():
    city()
    late = arrive("2000000009", "6000000009", name="番号 無し", kana="バンゴウ ナシ")
    outcome = _export(DAY, full=True)
    assert outcome.file.record_count == 6  # the three linked persons' two data sets
    item = NationalWorkItem.objects.get(feed=Feed.FUKUHON, person=late)
    assert item.kind == WorkItemKind.FUKUHON_NO_NUMBER and item.resolved_at is None
    assert "提供区分 1" in item.message

    register_numbers(late)
    integrated = vault_integrated_numbers(atena_nos=[late.atena_no])[late.atena_no]
    delta = _export(DAY + dt.timedelta(days=1))
    assert _codes(delta, integrated) == [("001", "1", "0"), ("002", "1", "0")]
    item.refresh_from_db()
    assert item.resolved_at is not None


def test_a_delta_with_nothing_changed_sends_nothing():
    city()
    _export(DAY, full=True)
    assert _export(DAY + dt.timedelta(days=1)).file.record_count == 0
